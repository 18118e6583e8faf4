// The peer side of bench/peer_diff.py: a long-lived process that reads one
// iam-simulate Simulation per line on stdin (JSON) and writes one JSON line per
// input on stdout, in order:
//   {"decision": "allow" | "explicit_deny" | "implicit_deny", "ignored": [KEY...]?}
//   {"error": "<why the peer would not decide>"}
// A line that is not JSON, or a simulation that throws, is answered with an
// error line too, so the two streams never drift apart.
// Usage: node diff_runner.mjs   (from bench/peer, after npm install)
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const names = { Allowed: 'allow', ExplicitlyDenied: 'explicit_deny', ImplicitlyDenied: 'implicit_deny' }

// Anonymous callers are written as {"type": "Anonymous"} already; nothing else
// is rewritten here: bench/peer_diff.py builds the peer's input shape itself.
async function decide(line) {
  let simulation
  try {
    simulation = JSON.parse(line)
  } catch (e) {
    return { error: `not JSON: ${e.message}` }
  }
  try {
    const response = await runSimulation(simulation, {})
    if (response.resultType === 'error') {
      const errors = response.errors || {}
      const detail = Object.entries(errors)
        .filter(([k]) => k !== 'message')
        .map(([k, v]) => `${k}=${JSON.stringify(v).slice(0, 300)}`)
        .join(' ')
      return { error: `${errors.message}${detail ? ' ' + detail : ''}` }
    }
    const answer = { decision: names[response.overallResult] || String(response.overallResult) }
    // Context keys the peer dropped as not applicable to the action: the
    // caller gives both sides the same context, so it drops them too.
    const ignored = response.resultType === 'single' ? response.result.ignoredContextKeys : undefined
    if (ignored && ignored.length) answer.ignored = ignored
    return answer
  } catch (e) {
    return { error: `threw: ${e && e.message ? e.message : String(e)}` }
  }
}

const out = []
let pending = 0
function flush() {
  if (out.length) {
    process.stdout.write(out.join(''))
    out.length = 0
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
for await (const line of rl) {
  if (line.trim() === '') continue
  out.push(JSON.stringify(await decide(line)) + '\n')
  // Batch writes while input keeps coming; flush when the reader idles so a
  // caller waiting on one answer (the minimiser's probes) is never stalled.
  if (++pending >= 256) {
    flush()
    pending = 0
  } else {
    setImmediate(flush)
  }
}
flush()
