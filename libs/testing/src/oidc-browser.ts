/**
 * A browser driven with plain HTTP for the single sign-on suites: manual redirects, cookies per
 * origin, and the OpenID test provider's development login and consent forms.
 */
/** The callback's path on the gateway (the redirect URI registered at the provider). */
const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** Cookies per origin, as a browser keeps them (enough for these two sites on loopback). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  store(url: string, res: Response): void {
    const jar = this.byOrigin.get(new URL(url).origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || attributes.some((a) => /^\s*max-age=0$/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.byOrigin.set(new URL(url).origin, jar);
  }

  header(url: string): string {
    return [...(this.byOrigin.get(new URL(url).origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.byOrigin.get(new URL(url).origin)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const jar = this.byOrigin.get(new URL(url).origin) ?? new Map<string, string>();
    jar.set(name, value);
    this.byOrigin.set(new URL(url).origin, jar);
  }

  delete(url: string, name: string): void {
    this.byOrigin.get(new URL(url).origin)?.delete(name);
  }
}

/** A browser driven with plain HTTP: manual redirects, cookies per origin, the provider's login and consent forms. */
export function oidcHttpBrowser() {
  const jar = new CookieJar();
  const go = async (url: string, init: { method?: string; form?: Record<string, string> } = {}) => {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(url), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    jar.store(url, res);
    const location = res.headers.get('location');
    return { res, status: res.status, location: location ? new URL(location, url).href : null, text: await res.text() };
  };

  /** From /oidc/start through the provider (login as `account`, consent) until it sends the browser to the callback; answers that URL. */
  const toCallback = async (gatewayUrl: string, account: string, tamper: (authorizationUrl: URL) => void = () => undefined) => {
    const start = await go(`${gatewayUrl}/api/v1/auth/oidc/start?returnTo=%2Frequests`);
    if (start.status !== 302) throw new Error(`/oidc/start answered ${start.status}, not a redirect to the provider:\n${start.text.slice(0, 500)}`);
    const authorization = new URL(start.location!);
    tamper(authorization);
    let next: string = authorization.href;
    for (let hop = 0; hop < 20; hop += 1) {
      if (next.startsWith(`${gatewayUrl}${CALLBACK_PATH}`)) return { callbackUrl: next, authorization: new URL(start.location!) };
      const page = await go(next);
      if (page.location) {
        next = page.location;
        continue;
      }
      // The provider's development pages: a login form, then a consent form.
      const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
      if (page.status !== 200 || !action) throw new Error(`unexpected provider page (${page.status}) at ${next}:\n${page.text.slice(0, 500)}`);
      const target = new URL(action, next).href;
      const answer = await go(target, {
        method: 'POST',
        form: /name="login"/.test(page.text) ? { prompt: 'login', login: account, password: 'any' } : { prompt: 'consent' },
      });
      if (!answer.location) throw new Error(`the provider's form did not redirect (${answer.status}):\n${answer.text.slice(0, 500)}`);
      next = answer.location;
    }
    throw new Error('too many redirects');
  };

  /** The whole sign-in: answers the callback's redirect and the session cookie it set (if any). */
  const signIn = async (gatewayUrl: string, account: string) => {
    const { callbackUrl } = await toCallback(gatewayUrl, account);
    const done = await go(callbackUrl);
    return { ...done, session: jar.get(gatewayUrl, 'latchkey_session') };
  };

  return { jar, go, toCallback, signIn };
}
