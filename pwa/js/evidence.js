// Evidence on the phone: a photo is downscaled with a canvas before it is stored (a 12 MP photo of a
// signed decision becomes ~150–300 KB), then identified by its SHA-256, so the same file is stored and
// uploaded once.
const MAX_SIDE = 1600;
const QUALITY = 0.82;

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function prepareFile(file) {
  let blob = file;
  let name = file.name || "tep";
  let mime = file.type || "application/octet-stream";
  if (/^image\/(jpeg|png|webp)$/.test(mime)) {
    try {
      const scaled = await downscale(file);
      if (scaled && scaled.size < file.size) {
        blob = scaled;
        mime = "image/jpeg";
        name = name.replace(/\.[A-Za-z0-9]+$/, "") + ".jpg";
      }
    } catch (err) {
      // A picture the browser cannot decode is kept as it is.
    }
  }
  const sha256 = await sha256Hex(blob);
  return { sha256, name: name.slice(0, 120), size: blob.size, mime, blob };
}

async function downscale(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close && bitmap.close();
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
}
