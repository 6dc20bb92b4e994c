// A payment URI as a QR code in inline SVG, drawn server-side. uqr does the encoding; the drawing
// is one path of horizontal runs, a few KB where a rect per module would be tens of KB.

import { encode } from "uqr";

/** The quiet zone the QR standard asks for, in modules. */
const QUIET_ZONE = 4;

export function qrSvg(text: string, label: string): string {
  const { data, size } = encode(text, { ecc: "M", border: QUIET_ZONE });
  let path = "";
  for (let y = 0; y < size; y++) {
    const row = data[y]!;
    for (let x = 0; x < size; ) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && row[x]) x++;
      path += `M${start} ${y}h${x - start}v1h${start - x}z`;
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges" role="img" ` +
    `aria-label="${escapeAttribute(label)}" data-testid="qr"><rect width="${size}" height="${size}" fill="#fff"/>` +
    `<path fill="#000" d="${path}"/></svg>`
  );
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
