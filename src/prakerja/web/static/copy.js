// Copy buttons: <button data-copy="text">. Without JavaScript the code stays selectable and downloadable.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const status = document.getElementById("copy-status");
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
  } catch (error) {
    const area = document.createElement("textarea");
    area.value = button.dataset.copy;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  if (status) status.textContent = status.dataset.copied;
});
