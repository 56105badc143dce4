import { createHash } from 'node:crypto';

/** The pages a person sees while signing in: self-contained, no scripts, nothing loaded from elsewhere. */

const style = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f3f4f6;
  font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827}
main{width:100%;max-width:360px;margin:24px;padding:32px;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{margin:0 0 4px;font-size:1.4rem}
p{margin:0 0 20px;color:#4b5563}
label{display:block;margin-bottom:4px;font-weight:600;font-size:.9rem}
input{width:100%;margin-bottom:16px;padding:10px 12px;font:inherit;border:1px solid #d1d5db;border-radius:8px}
input:focus{outline:2px solid #2563eb;outline-offset:1px;border-color:#2563eb}
button{width:100%;padding:10px 12px;font:inherit;font-weight:600;border:0;border-radius:8px;cursor:pointer;background:#2563eb;color:#fff}
button.secondary{margin-top:8px;background:#fff;color:#374151;border:1px solid #d1d5db}
ul{margin:0 0 20px;padding:0;list-style:none}
li{padding:8px 0;border-top:1px solid #e5e7eb}
li:last-child{border-bottom:1px solid #e5e7eb}
code{font-size:.85rem;color:#6b7280}
.error{margin-bottom:16px;padding:10px 12px;border-radius:8px;background:#fef2f2;color:#991b1b}
`;

const styleHash = createHash('sha256').update(style).digest('base64');

/** Headers of every page: no caching, no framing, only the inline style above. */
export const pageHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${styleHash}'; frame-ancestors 'none'; base-uri 'none'`,
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function loginPage(page: {
  action: string;
  abort: string;
  clientId: string;
  username?: string;
  error?: string;
}): string {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(page.clientId)}</strong></p>
${page.error ? `<div class="error" role="alert">${escapeHtml(page.error)}</div>` : ''}
<form method="post" action="${escapeHtml(page.action)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(page.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${escapeHtml(page.abort)}"><button class="secondary" type="submit">Cancel</button></form>`,
  );
}

export function consentPage(page: {
  action: string;
  abort: string;
  clientId: string;
  username: string;
  scopes: Array<{ name: string; description: string }>;
}): string {
  const items = page.scopes
    .map((s) => `<li>${escapeHtml(s.description)}<br><code>${escapeHtml(s.name)}</code></li>`)
    .join('\n');
  return layout(
    'Allow access',
    `<h1>Allow access</h1>
<p><strong>${escapeHtml(page.clientId)}</strong> asks to act for <strong>${escapeHtml(page.username)}</strong>:</p>
<ul>
${items}
</ul>
<form method="post" action="${escapeHtml(page.action)}"><button type="submit">Allow</button></form>
<form method="post" action="${escapeHtml(page.abort)}"><button class="secondary" type="submit">Deny</button></form>`,
  );
}

export function errorPage(error: string, description: string | undefined): string {
  return layout(
    'Sign-in problem',
    `<h1>Sign-in problem</h1>
<p>${escapeHtml(description ?? 'The request could not be completed.')}</p>
<p><code>${escapeHtml(error)}</code></p>
<p>Go back to the application and start again.</p>`,
  );
}
