// Runs iam-simulate on the scenarios bench/kernel_bench.py writes, and prints
// one JSON object: per-request latencies (warm) and decisions.
// Usage: node iam_simulate_bench.mjs INPUT.json
import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const p = input.policies
const named = (list, prefix) => list.map((policy, i) => ({ name: `${prefix}${i}`, policy }))

function simulation(request) {
  return {
    identityPolicies: named(p.identity || [], 'identity'),
    serviceControlPolicies: (p.scps || []).map((level, i) => ({ orgIdentifier: `level-${i}`, policies: named(level, `scp${i}-`) })),
    resourceControlPolicies: [],
    permissionBoundaryPolicies: p.boundary ? named(p.boundary, 'boundary') : undefined,
    resourcePolicy: p.resource || undefined,
    request: {
      action: request.action,
      principal: request.principal,
      resource: { accountId: request.resource_account, resource: request.resource },
      contextVariables: Object.fromEntries(Object.entries(request.context || {}).map(([k, v]) => [k, Array.isArray(v) ? v : String(v)])),
    },
  }
}

const names = { Allowed: 'allow', ExplicitlyDenied: 'explicit_deny', ImplicitlyDenied: 'implicit_deny' }
const sims = input.requests.map(simulation)
for (let round = 0; round < 2; round++) for (const s of sims) await runSimulation(s, {}) // warm up
const latencies = []
const decisions = []
for (const s of sims) {
  const t = process.hrtime.bigint()
  const response = await runSimulation(s, {})
  latencies.push(Number(process.hrtime.bigint() - t) / 1000)
  decisions.push(response.resultType === 'error' ? 'error' : names[response.overallResult] || response.overallResult)
}
console.log(JSON.stringify({ latencies_us: latencies, decisions }))
