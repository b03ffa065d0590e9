'use strict'
// Writes the bundle's manifest.webapp: the repository's (the one `app serve` also reads), plus
// what only the Cozy home needs: the doctype of the screens the engine writes, and the service
// that runs the engine when the trips change (docs/apps.md, "Services"; docs/jobs.md, @event).
const m = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'))
m.permissions.screens = {
  type: 'io.cozy.coachco2.screens',
  verbs: ['GET', 'PUT', 'POST'],
  description: 'Keep your figures and screens, computed in your Cozy by the coach\'s service'
}
m.permissions.corrections = {
  type: 'io.cozy.coachco2.corrections',
  verbs: ['GET', 'POST', 'DELETE'],
  description: 'Pass your corrections of a trip (mode, purpose, title), your settings and your choices about studies to the coach\'s service'
}
// Research sharing leaves only through the stack's remote doctypes (docs/remote.md), whose
// requests a territory's stack defines for its collector (README, "In your Cozy"; the request
// files: pkg/sharing's RemoteRequests): POST the contributions, POST the withdrawal (a remote
// doctype cannot DELETE), GET a study's descriptor.
const remotes = {
  collector_contributions: ['org.coachco2.collector.contributions', 'POST',
    'Send to a study\'s researchers the measures you consented to, through your Cozy, which logs it',
    'Envoyer aux chercheurs d\'une étude les mesures que vous avez accordées, par votre Cozy, qui le note'],
  collector_withdrawal: ['org.coachco2.collector.withdrawal', 'POST',
    'Ask a study\'s researchers to delete what was sent, when you withdraw your consent',
    'Demander aux chercheurs d\'une étude de supprimer ce qui a été envoyé, quand vous retirez votre consentement'],
  collector_study: ['org.coachco2.collector.study', 'GET',
    'Read the description of a study whose id you give',
    'Lire la description d\'une étude dont vous donnez l\'identifiant']
}
for (const [name, [type, verb, en, fr]] of Object.entries(remotes)) {
  m.permissions[name] = { type, verbs: [verb], description: en }
  m.locales.en.permissions[name] = { description: en }
  m.locales.fr.permissions[name] = { description: fr }
}
m.locales.fr.permissions.screens = { description: 'Garder vos chiffres et vos écrans, calculés dans votre Cozy par le service du coach' }
m.locales.en.permissions.screens = { description: m.permissions.screens.description }
m.locales.fr.permissions.corrections = { description: 'Transmettre vos corrections d\'un trajet (mode, motif, titre), vos paramètres et vos choix sur les études au service du coach' }
m.locales.en.permissions.corrections = { description: m.permissions.corrections.description }
// Three triggers on the same entry point: the trips' changes, the corrections, and every day.
m.services = {
  coach: {
    type: 'node',
    file: '/services/coach.js',
    trigger: '@event io.cozy.timeseries.geojson:CREATED,UPDATED',
    debounce: '1m'
  },
  corrections: {
    type: 'node',
    file: '/services/coach.js',
    trigger: '@event io.cozy.coachco2.corrections:CREATED'
  },
  // The daily share of the periods that ended (as `app serve` shares daily), at a time the
  // stack draws for the instance (docs/jobs.md, @daily).
  sharing: {
    type: 'node',
    file: '/services/coach.js',
    trigger: '@daily'
  }
}
process.stdout.write(JSON.stringify(m, null, 2) + '\n')
