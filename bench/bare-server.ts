// The baseline: the least a Node HTTP server can do. Spawned exactly like the services, so its
// start-up, memory and throughput are what the landscape's figures are divided by.
import { createServer } from 'node:http';

const port = Number(process.env['PORT'] ?? 0);
const body = Buffer.from('{"message":"hello"}');

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`bare server listening on ${port}\n`));

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
