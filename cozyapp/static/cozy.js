'use strict'
// The page of Coach CO2 in a Cozy. The engine runs on the stack side (the app's service,
// cozyapp/engine) and stores the web app's screens, rendered by the same Go handler and
// templates as `app serve`, in one document; this page reads it through the stack's /data API
// with the token the stack put in index.html, and shows the screens. No framework, nothing
// fetched but the stack's API.

const DOCTYPE = 'io.cozy.coachco2.screens'
const CORRECTIONS = 'io.cozy.coachco2.corrections'
// FORMS are the forms the service takes (cozyapp/engine: correctionPath, studyForm): a trip's,
// the settings', and the Studies screen's (add a study, consent or its preview, revoke).
const FORMS = /^\/(trips\/[^/]+(\/recurring\/undo)?|settings|studies\/(add|[a-z0-9][a-z0-9.-]*[a-z0-9]\/(consent|revoke)))$/
const NAMES = {
  en: { '/': 'Dashboard', '/trips': 'Trips', '/analysis': 'Analysis', '/settings': 'Settings', '/exports': 'Exports', '/studies': 'Studies', wait: 'Your figures are being computed; this page updates when they are ready.', fail: 'The figures could not be read', saved: 'Saved: your figures are being recomputed; reload the page in a moment.', range: 'The period starts after it ends.', month: 'A month is written YYYY-MM.', year: 'The attestations kept are those of the years: ', period: 'The analyses kept are those of the years and months with trips, and of this year.' },
  fr: { '/': 'Tableau de bord', '/trips': 'Trajets', '/analysis': 'Analyse', '/settings': 'Paramètres', '/exports': 'Exports', '/studies': 'Études', wait: 'Vos chiffres sont en cours de calcul ; la page se met à jour quand ils sont prêts.', fail: 'Les chiffres n’ont pas pu être lus', saved: 'Enregistré : vos chiffres sont en cours de recalcul ; rechargez la page dans un moment.', range: 'La période commence après sa fin.', month: 'Un mois s’écrit AAAA-MM.', year: 'Les attestations gardées sont celles des années : ', period: 'Les analyses gardées sont celles des années et des mois avec des trajets, et de cette année.' }
}

document.addEventListener('DOMContentLoaded', () => {
  const app = document.querySelector('[role=application]')
  const ctx = {
    names: NAMES[(app.dataset.locale || 'en').slice(0, 2)] || NAMES.en,
    stack: window.location.protocol + '//' + app.dataset.cozyStack,
    token: app.dataset.token
  }
  get(ctx, DOCTYPE, 'screens').then((doc) => {
    if (!doc) { status(ctx.names.wait); return }
    ctx.doc = doc
    go(ctx, window.location.hash.slice(1) || '/')
  }).catch((err) => status(ctx.names.fail + ': ' + err.message))
})

function status (text) {
  const p = document.createElement('p')
  p.id = 'status'
  p.textContent = text
  const main = document.createElement('main')
  main.append(p)
  document.getElementById('screen').replaceChildren(main)
}

// get reads a document through the stack's /data API: null when there is none.
function get (ctx, doctype, id) {
  return fetch(ctx.stack + '/data/' + encodeURIComponent(doctype) + '/' + encodeURIComponent(id), {
    headers: { Authorization: 'Bearer ' + ctx.token, Accept: 'application/json' }
  }).then((resp) => {
    if (resp.status === 404) return null
    if (!resp.ok) throw new Error(resp.status + ' ' + resp.statusText)
    return resp.json()
  })
}

// go shows the screen at path (and query): a stored screen, a trip's (its own document), or the
// trip list for a filter or page (cozy-trips.js).
function go (ctx, path) {
  const u = new URL(path, window.location.origin)
  const trip = u.pathname.match(/^\/trips\/([^/?#]+)$/)
  if (trip) {
    get(ctx, DOCTYPE, 'trip-' + decodeURIComponent(trip[1])).then((doc) => {
      if (doc) show(ctx, path, doc.main); else go(ctx, '/trips')
    }).catch((err) => status(ctx.names.fail + ': ' + err.message))
    return
  }
  if (u.pathname === '/trips' && u.search) {
    showTrips(ctx, u.pathname + u.search, u.searchParams)
    return
  }
  if (u.pathname === '/analysis' && u.searchParams.get('period')) {
    showAnalysis(ctx, u.pathname + u.search, u.searchParams.get('period'))
    return
  }
  if (!ctx.doc.main[path]) path = ctx.doc.main[u.pathname] ? u.pathname : '/'
  if (path === '/exports' && !ctx.exports) {
    // The downloads are a document of their own, read when their screen opens.
    get(ctx, DOCTYPE, 'exports').then((doc) => {
      ctx.exports = doc || { formats: {}, attestations: {}, months: [] }
      show(ctx, path, ctx.doc.main[path])
    }).catch((err) => status(ctx.names.fail + ': ' + err.message))
    return
  }
  show(ctx, path, ctx.doc.main[path])
}

// show renders the nav and a screen, and routes its links and forms: a link to another screen
// switches to it through the URL's fragment (the stack serves only this page); the trip list's
// filters and pages are made here from the stored rows; the exports are made from the stored
// downloads (cozy-exports.js); a trip's form, the settings' and the Studies screen's are stored
// as a correction, which the service passes to the web app's handler.
function show (ctx, path, html) {
  window.location.hash = path
  const here = path.split('?')[0]
  const nav = document.getElementById('screens')
  nav.replaceChildren()
  for (const p of Object.keys(ctx.names).filter((k) => k.startsWith('/'))) {
    if (!ctx.doc.main[p]) continue
    const a = document.createElement('a')
    a.href = '#' + p
    a.textContent = ctx.names[p]
    if (p === here || here.startsWith(p + '/')) a.setAttribute('aria-current', 'page')
    a.addEventListener('click', (ev) => { ev.preventDefault(); go(ctx, p) })
    nav.append(a)
  }
  // The HTML is the engine's rendering of the person's own data, escaped by html/template; its
  // scripts, if any, would not run (the stack's CSP has no 'unsafe-inline' for scripts).
  const main = new DOMParser().parseFromString(html, 'text/html').querySelector('main')
  inCozy(main)
  document.getElementById('screen').replaceChildren(document.importNode(main, true))
  for (const a of document.querySelectorAll('#screen a[href^="/"]')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault()
      const u = new URL(a.getAttribute('href'), window.location.href)
      go(ctx, u.pathname + u.search)
    })
  }
  for (const form of document.querySelectorAll('#screen form')) {
    const action = new URL(form.getAttribute('action') || here, window.location.href).pathname
    if (here === '/exports' && exportForm(ctx, form, action)) continue
    if ((action === '/trips' || action === '/analysis') && form.method === 'get') {
      form.addEventListener('submit', (ev) => {
        ev.preventDefault()
        go(ctx, action + '?' + new URLSearchParams(new FormData(form, ev.submitter)).toString())
      })
      continue
    }
    if (!FORMS.test(action)) {
      form.addEventListener('submit', (ev) => ev.preventDefault())
      continue
    }
    for (const sel of form.querySelectorAll('select.autosubmit')) {
      sel.addEventListener('change', () => form.requestSubmit())
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      const fields = new URLSearchParams(new FormData(form, ev.submitter))
      fields.delete('csrf_token')
      fetch(ctx.stack + '/data/' + encodeURIComponent(CORRECTIONS) + '/', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + ctx.token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ path: action, form: fields.toString(), created: new Date().toISOString() })
      }).then((resp) => {
        if (!resp.ok) throw new Error(resp.status + ' ' + resp.statusText)
        const p = document.createElement('p')
        p.className = 'saved'
        p.textContent = ctx.names.saved
        form.before(p)
      }).catch((err) => status(ctx.names.fail + ': ' + err.message))
    })
  }
}

// showAnalysis shows the analysis of a period (YYYY or YYYY-MM), which the engine stored for
// the years and months with trips (the document "analysis").
function showAnalysis (ctx, path, period) {
  const stored = ctx.analysis ? Promise.resolve(ctx.analysis) : get(ctx, DOCTYPE, 'analysis').then((doc) => (ctx.analysis = doc || { main: {} }))
  stored.then((doc) => {
    if (doc.main[period]) { show(ctx, path, doc.main[period]); return }
    show(ctx, '/analysis', ctx.doc.main['/analysis'])
    const p = document.createElement('p')
    p.className = 'error'
    p.setAttribute('role', 'alert')
    p.textContent = ctx.names.period
    document.querySelector('#screen form').after(p)
  }).catch((err) => status(ctx.names.fail + ': ' + err.message))
}

// inCozy leaves out of a screen what cannot work in a Cozy: the settings' map fields (tiles from
// another host are outside the stack's CSP, and the engine on the stack's machine has no map file
// of yours; it keeps these settings as they are).
function inCozy (main) {
  for (const name of ['tileServer', 'baseMap']) {
    const input = main.querySelector('form[action="/settings"] [name="' + name + '"]')
    if (input && input.closest('fieldset')) input.closest('fieldset').remove()
  }
}
