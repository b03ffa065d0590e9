'use strict'
// The entry point of Coach CO2's service. The stack runs an app's service with Node.js
// (docs/apps.md, "Services"), with the app's permissions; the engine is a static Go binary
// bundled beside this file (cozyapp/service). This starts it with the job's environment as it
// is and ends with its status, as the konnector's entry point does (connector/cozy/index.js).

const { spawn } = require('child_process')
const fs = require('fs')
const path = require('path')

const binary = path.join(__dirname, 'coach')

// The stack unpacks the app's files without the executable bit.
try {
  fs.chmodSync(binary, 0o755)
} catch (err) {
  fail(`cannot make ${binary} executable: ${err.message}`)
}

const child = spawn(binary, [], { stdio: 'inherit', env: process.env })
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => child.kill(sig))
}
child.on('error', err => fail(`cannot start ${binary}: ${err.message}`))
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code)
})

function fail (reason) {
  process.stderr.write(`coach service: ${reason}\n`)
  process.exit(1)
}
