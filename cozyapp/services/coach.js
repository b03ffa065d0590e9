'use strict'
// The entry point of Coach CO2's service. The stack runs an app's service with Node.js, with
// the app's permissions (docs/apps.md, "Services"), and copies only this one file into a fresh
// work folder, as index.js (cozy-stack worker/exec/service.go, PrepareWorkDir): so the engine, a
// static linux/amd64 Go binary (cozyapp/service), travels inside it, brotli-compressed and in base64
// (cozyapp/package.sh fills ENGINE in). This writes it beside itself, starts it with the job's
// environment as it is, and ends with its status. The stack reads stdout as JSON lines
// (ScanOutput): the engine writes nothing there, and logs JSON on stderr.

const { spawn } = require('child_process')
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')

const ENGINE = '@ENGINE@'

const binary = path.join(__dirname, 'coach')
try {
  fs.writeFileSync(binary, zlib.brotliDecompressSync(Buffer.from(ENGINE, 'base64')), { mode: 0o755 })
} catch (err) {
  fail(`cannot write the engine to ${binary}: ${err.message}`)
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

// fail ends the job: the reason as the JSON line the stack logs, a non-zero exit.
function fail (reason) {
  process.stdout.write(JSON.stringify({ type: 'critical', message: `coach service: ${reason}` }) + '\n')
  process.exit(1)
}
