// Runs graphql-http's GraphQL-over-HTTP server audits against the URL given as the only
// argument; prints {"total": N, "results": [every audit that did not pass]} as JSON on stdout.
// The pytest side (test_audit.py) decides what counts as a failure.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}
const audits = serverAudits({ url });
const results = [];
// One at a time: the server under test is a single process, and the order stays readable.
for (const { fn } of audits) {
  const result = await fn();
  if (result.status !== "ok") {
    const response = result.response;
    results.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.reason,
      responseStatus: response ? response.status : null,
      responseBody: response ? await response.text().catch(() => null) : null,
    });
  }
}
console.log(JSON.stringify({ total: audits.length, results }));
