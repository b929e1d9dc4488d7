// The status page's action buttons (POST /jobs/{job}/run, /pause, /resume
// with the admin token as a bearer token), and its reload while they are on:
// every few seconds, except while the token is being typed, a request is on
// its way, or its answer was just shown. The token stays in this tab's
// sessionStorage, never in the page.
(() => {
  'use strict';
  const input = document.getElementById('admin-token');
  const out = document.getElementById('action-result');
  if (!input || !out) return;
  const key = 'go-leader-election.admin-token';
  input.value = sessionStorage.getItem(key) || '';
  input.addEventListener('input', () => sessionStorage.setItem(key, input.value));
  let busy = false;
  let acted = 0; // when the latest action ended: its answer stays up a while

  const done = {
    run: b => `manual run ${b.id} started on ${b.node} (term ${b.term})`,
    pause: b => `${b.job} paused on every node`,
    resume: b => `${b.job} resumed`,
  };
  for (const button of document.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', async () => {
      const {job, action} = button.dataset;
      busy = true;
      out.dataset.status = '';
      out.textContent = `${action} ${job}…`;
      try {
        const resp = await fetch(`jobs/${encodeURIComponent(job)}/${action}`, {
          method: 'POST',
          headers: {'Authorization': 'Bearer ' + input.value.trim()},
        });
        let body = {};
        try { body = await resp.json(); } catch (e) { /* no JSON body */ }
        out.dataset.status = String(resp.status);
        out.textContent = resp.ok ? `${resp.status}: ${done[action](body)}`
          : `${resp.status}: ${body.error || resp.statusText}`;
      } catch (e) {
        out.dataset.status = 'failed';
        out.textContent = `${action} ${job}: ${e}`;
      } finally {
        busy = false;
        acted = Date.now();
      }
    });
  }

  const every = Number(document.body.dataset.refresh || 5) * 1000;
  setInterval(() => {
    if (!busy && document.activeElement !== input && Date.now() - acted >= every) location.reload();
  }, every);
})();
