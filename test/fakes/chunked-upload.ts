// A client that uploads with chunked encoding (no content-length, so only counting while
// reading can stop it) and keeps sending whatever the server answers meanwhile, as a
// simple uploader does.
import { request } from 'node:http';

/** POSTs size bytes of spaces to url with the given headers; resolves with the answer, rejects on a reset. */
export function postChunked(url: string, size: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}
