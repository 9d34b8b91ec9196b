// The export job's page: poll its progress until the file is ready, then show the download link.
// Plain ES module (the CSP forbids inline scripts); without it the page's own link reloads the page.
const box = document.getElementById("job");
const bar = document.getElementById("job-progress");
const text = document.getElementById("job-text");
const file = document.getElementById("job-file");
const reload = document.getElementById("job-reload");

function show(job) {
  if (job.total) {
    bar.max = job.total;
    bar.value = job.done;
  } else if (job.status === "done") {
    bar.max = 1;
    bar.value = 1;
  }
  if (job.status === "done") {
    text.textContent = `Đã xong: ${job.done} dòng.`;
    file.hidden = false;
    reload.hidden = true;
  } else if (job.status === "failed") {
    text.textContent = "Không làm được tệp này. Vui lòng thử lại.";
    reload.hidden = true;
  } else {
    text.textContent = `Đang làm: ${job.done} / ${job.total} dòng.`;
  }
  box.dataset.status = job.status;
}

async function poll() {
  try {
    const r = await fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" });
    if (r.ok) show(await r.json());
  } catch {
    // The network dropped: try again on the next tick.
  }
  if (box.dataset.status === "running") setTimeout(poll, 700);
}

if (box && box.dataset.status === "running") {
  reload.hidden = true;
  setTimeout(poll, 300);
}
