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
  description: 'Pass your corrections of a trip (mode, purpose, title) and your settings to the coach\'s service'
}
m.locales.fr.permissions.screens = { description: 'Garder vos chiffres et vos écrans, calculés dans votre Cozy par le service du coach' }
m.locales.en.permissions.screens = { description: m.permissions.screens.description }
m.locales.fr.permissions.corrections = { description: 'Transmettre vos corrections d\'un trajet (mode, motif, titre) et vos paramètres au service du coach' }
m.locales.en.permissions.corrections = { description: m.permissions.corrections.description }
// Two triggers, one per doctype, on the same entry point.
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
  }
}
process.stdout.write(JSON.stringify(m, null, 2) + '\n')
