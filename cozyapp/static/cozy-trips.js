'use strict'
// The trip list's filters and pages in the Cozy page. The filters combine into more lists than
// the engine could render ahead, so it stores every trip's row, rendered by the web app's own
// template, with what the filters read (the document "triplist", cozyapp/engine/triplist.go);
// this filters and pages them as the web app's /trips does (pkg/webapp, tripList), into the
// stored screen of the list.

// showTrips shows the trip list for query (month, mode, purpose, device, offset).
function showTrips (ctx, path, query) {
  const list = ctx.trips ? Promise.resolve(ctx.trips) : get(ctx, DOCTYPE, 'triplist').then((doc) => (ctx.trips = doc))
  list.then((doc) => {
    if (!doc) { go(ctx, '/trips'); return }
    const month = query.get('month') || ''
    if (month && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) { status(ctx.names.month); return }
    show(ctx, path, tripList(ctx, doc, query))
  }).catch((err) => status(ctx.names.fail + ': ' + err.message))
}

// tripList returns the list's screen for query, made from the stored screen of the whole list.
function tripList (ctx, doc, query) {
  const q = {}
  for (const k of ['month', 'mode', 'purpose', 'device']) q[k] = query.get(k) || ''
  // As the web app: the settings' devices when no device is asked for; a page starts at a
  // positive offset, else at 0.
  const devices = q.device ? [q.device] : (doc.devices || [])
  let offset = /^[+-]?\d+$/.test(query.get('offset') || '') ? parseInt(query.get('offset'), 10) : 0
  if (offset < 0) offset = 0
  const rows = doc.rows.filter((r) => (!q.month || r.month === q.month) &&
    (devices.length === 0 || devices.includes(r.device)) &&
    (!q.mode || (r.modes || []).includes(q.mode)) && (!q.purpose || r.purpose === q.purpose))
  const page = rows.slice(offset, offset + doc.page_size)

  const main = new DOMParser().parseFromString(ctx.doc.main['/trips'], 'text/html').querySelector('main')
  const form = main.querySelector('form.filters')
  for (const k of Object.keys(q)) {
    const field = form.querySelector('[name="' + k + '"]')
    if (!field) continue
    if (field.tagName === 'SELECT') {
      for (const o of field.options) o.toggleAttribute('selected', o.value === q[k])
    } else {
      field.setAttribute('value', q[k])
    }
  }
  const count = form.nextElementSibling
  count.textContent = doc.counts[rows.length]
  const old = count.nextElementSibling
  if (page.length > 0) {
    const table = new DOMParser().parseFromString(doc.table, 'text/html').querySelector('table')
    table.tBodies[0].innerHTML = page.map((r) => r.html).join('\n')
    old.replaceWith(table)
  } else {
    const none = document.createElement('p')
    none.textContent = doc.none
    old.replaceWith(none)
  }
  const pager = main.querySelector('nav.pager')
  pager.replaceChildren()
  const link = (at, rel, text) => {
    const p = new URLSearchParams()
    const keys = Object.keys(q).filter((k) => q[k] !== '').concat(['offset']).sort()
    for (const k of keys) p.set(k, k === 'offset' ? String(at) : q[k])
    const a = document.createElement('a')
    a.href = '/trips?' + p.toString()
    a.rel = rel
    a.textContent = text
    return a
  }
  if (offset > 0) pager.append(link(Math.max(0, offset - doc.page_size), 'prev', '← ' + doc.prev))
  pager.append(' ')
  if (offset + doc.page_size < rows.length) pager.append(link(offset + doc.page_size, 'next', doc.next + ' →'))
  return main.outerHTML
}
