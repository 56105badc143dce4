// Adds a new token-signing key to the configured key file (auth.keys.file). It signs from the next
// start on; the older keys stay published so tokens already issued keep verifying. Remove a key only
// once every token it signed has expired (auth.accessTokenTtlSeconds after the rotation).
import { addSigningKey } from './keys/signing-keys.ts';
import { authServerService } from './service.ts';

const file = process.argv[2] ?? authServerService.loadConfig().auth.keys.file;
const key = await addSigningKey(file);
process.stdout.write(`added signing key ${key.kid} to ${file}; restart the auth server to sign with it\n`);
