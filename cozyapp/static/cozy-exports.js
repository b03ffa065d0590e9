'use strict'
// The downloads of the Exports screen in the Cozy page. The engine stores each month's part of
// the web app's CSV and GeoJSON exports, and how they join (cozyapp/engine/exports.go): this
// joins the months of the range asked for, which gives the web app's file for that range, and
// offers the attestation it stored for the year asked for. A download is a blob: URL that a link
// saves: a download is no fetch, so the stack's CSP (connect-src) does not apply to it.

// exportForm makes a form of the Exports screen download from the stored exports: false when
// the form is none of them.
function exportForm (ctx, form, action) {
  const format = ctx.exports.formats && ctx.exports.formats[action]
  if (!format && action !== '/exports/attestation.pdf') return false
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const fields = new FormData(form)
    const made = format ? rangeExport(ctx, format, action, fields.get('from') || '', fields.get('to') || '') : attestation(ctx, fields.get('year') || '')
    made.then((file) => {
      if (file.error) { show(ctx, '/exports', file.error); return }
      offer(form, file.blob, file.filename)
    }).catch((err) => note(form, err.message))
  })
  return true
}

// rangeExport joins the parts of the months from..to (either may be empty: no bound), as the
// web app exports that range.
function rangeExport (ctx, format, action, from, to) {
  for (const m of [from, to]) {
    if (m && !/^\d{4}-(0[1-9]|1[0-2])$/.test(m)) return Promise.reject(new Error(ctx.names.month))
  }
  if (from && to && from > to) return Promise.reject(new Error(ctx.names.range))
  const months = (ctx.exports.months || []).filter((m) => (!from || m >= from) && (!to || m <= to))
  return Promise.all(months.map((m) => get(ctx, DOCTYPE, 'export-' + m))).then((docs) => {
    const parts = docs.map((d) => (d && d.parts && d.parts[action]) || '').filter((p) => p !== '')
    const text = format.head + parts.join(format.sep) + format.tail
    return { blob: new Blob([text], { type: format.type }), filename: format.filename }
  })
}

// attestation is the stored attestation of a year, or the web app's refusal.
function attestation (ctx, year) {
  const f = (ctx.exports.attestations || {})[year]
  if (!f) {
    const years = Object.keys(ctx.exports.attestations || {}).sort().join(', ')
    return Promise.reject(new Error(ctx.names.year + years))
  }
  if (f.error) return Promise.resolve({ error: f.error })
  const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))
  return Promise.resolve({ blob: new Blob([bytes], { type: f.type }), filename: f.filename })
}

// offer saves a file through a link after the form, which stays to save it again.
function offer (form, blob, filename) {
  let a = document.getElementById('download')
  if (!a) {
    a = document.createElement('a')
    a.id = 'download'
  }
  if (a.href) URL.revokeObjectURL(a.href)
  form.after(a)
  a.download = filename
  a.textContent = filename
  a.href = URL.createObjectURL(blob)
  a.click()
}

// note says under the form why it gave no file.
function note (form, text) {
  const p = document.createElement('p')
  p.className = 'error'
  p.setAttribute('role', 'alert')
  p.textContent = text
  form.after(p)
}
