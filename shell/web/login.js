// The login page: shows "wrong token" after a refused POST /login (303 to /login?error=1).
const params = new URLSearchParams(location.search);
if (params.get('error') === '1') {
  document.querySelector('[data-testid=login-error]').hidden = false;
}
document.body.dataset.ready = '1';
