'use strict'
// The page of Coach CO2 in a Cozy. The engine runs on the stack side (the app's service,
// cozyapp/engine) and stores the web app's screens, rendered by the same Go handler and
// templates as `app serve`, in one document; this page reads it through the stack's /data API
// with the token the stack put in index.html, and shows the screens. No framework, nothing
// fetched but the stack's API.

const DOCTYPE = 'io.cozy.coachco2.screens'
const NAMES = {
  en: { '/': 'Dashboard', '/trips': 'Trips', '/analysis': 'Analysis', wait: 'Your figures are being computed; this page updates when they are ready.', fail: 'The figures could not be read' },
  fr: { '/': 'Tableau de bord', '/trips': 'Trajets', '/analysis': 'Analyse', wait: 'Vos chiffres sont en cours de calcul ; la page se met à jour quand ils sont prêts.', fail: 'Les chiffres n’ont pas pu être lus' }
}

document.addEventListener('DOMContentLoaded', () => {
  const app = document.querySelector('[role=application]')
  const names = NAMES[(app.dataset.locale || 'en').slice(0, 2)] || NAMES.en
  const stack = window.location.protocol + '//' + app.dataset.cozyStack
  const status = (text) => { document.getElementById('status').textContent = text }

  fetch(stack + '/data/' + encodeURIComponent(DOCTYPE) + '/screens', {
    headers: { Authorization: 'Bearer ' + app.dataset.token, Accept: 'application/json' }
  }).then((resp) => {
    if (resp.status === 404) { status(names.wait); return null }
    if (!resp.ok) throw new Error(resp.status + ' ' + resp.statusText)
    return resp.json()
  }).then((doc) => {
    if (doc) show(doc, names, window.location.hash.slice(1) || '/')
  }).catch((err) => status(names.fail + ': ' + err.message))
})

// show renders the nav and one screen; the screens' own links to another stored screen switch
// to it, through the URL's fragment (the stack serves only this page).
function show (doc, names, path) {
  if (!doc.main[path]) path = '/'
  const nav = document.getElementById('screens')
  nav.replaceChildren()
  for (const p of Object.keys(names).filter((k) => k.startsWith('/'))) {
    if (!doc.main[p]) continue
    const a = document.createElement('a')
    a.href = '#' + p
    a.textContent = names[p]
    if (p === path) a.setAttribute('aria-current', 'page')
    a.addEventListener('click', (ev) => { ev.preventDefault(); window.location.hash = p; show(doc, names, p) })
    nav.append(a)
  }
  // The HTML is the engine's rendering of the person's own data, escaped by html/template; its
  // scripts, if any, would not run (the stack's CSP has no 'unsafe-inline' for scripts).
  const parsed = new DOMParser().parseFromString(doc.main[path], 'text/html')
  const main = parsed.querySelector('main')
  document.getElementById('screen').replaceChildren(document.importNode(main, true))
  for (const a of document.querySelectorAll('#screen a[href^="/"]')) {
    const target = new URL(a.getAttribute('href'), window.location.href).pathname
    a.addEventListener('click', (ev) => {
      ev.preventDefault()
      if (doc.main[target]) { window.location.hash = target; show(doc, names, target) }
    })
  }
}
