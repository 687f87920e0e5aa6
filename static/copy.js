// Copy buttons: <button data-copy="ID"> copies the value of the element ID to the clipboard.
// A file of its own because the Content-Security-Policy allows no inline script; without
// JavaScript the button stays hidden and the value can be selected and copied by hand.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.value ?? source.textContent);
    button.textContent = "Copied";
  } catch {
    source.select?.();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
document.documentElement.classList.add("js");
