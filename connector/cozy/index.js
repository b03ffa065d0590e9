'use strict'
// The entry point of the konnector package. The Cozy stack runs a konnector with Node.js on the
// konnector's folder (cozy-stack scripts/konnector-node-run.sh); the connector is a static Go
// binary bundled beside this file. This starts it with the job's environment as it is, and
// passes its stdout (the stack's JSON lines), its stderr and its exit status through unchanged.

const { spawn } = require('child_process')
const fs = require('fs')
const path = require('path')

const binary = path.join(__dirname, 'connector')

// The stack unpacks the konnector's files with mode 0640 (cozy-stack worker/exec/konnector.go,
// extractTar): the binary is executable only once this says so. The folder is the job's own.
try {
  fs.chmodSync(binary, 0o755)
} catch (err) {
  fail(`cannot make ${binary} executable: ${err.message}`)
}

const child = spawn(binary, [], { stdio: 'inherit', env: process.env })

// The stack stops a job with a signal: the connector gets it too, to record its run and exit as
// it does on its own.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => child.kill(sig))
}

child.on('error', err => fail(`cannot start ${binary}: ${err.message}`))

child.on('exit', (code, signal) => {
  if (signal) {
    // Killed by a signal: end the same way, so that the stack sees what it would have seen.
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
    return
  }
  process.exit(code)
})

// fail ends the job as the stack expects a konnector to: an error code on stdout, the reason on
// stderr, a non-zero exit.
function fail (reason) {
  process.stderr.write(`konnector: ${reason}\n`)
  process.stdout.write(JSON.stringify({ type: 'critical', message: 'UNKNOWN_ERROR' }) + '\n')
  process.exit(1)
}
