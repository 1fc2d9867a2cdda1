// The floor for the get_status load: a bare node:http server, as its own
// process, answering every request with the same bytes the daemon served
// (read from a file), with no framework, no authentication and no routing.
// Prints its URL on stdout, then serves until killed. Loopback only.
//
// Usage: node test/dist/bench/bare-status-server.js <file with the response body>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.argv[2] ?? '');
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`http://127.0.0.1:${address.port}`);
});
