// Whether a URL points at this machine: such servers are local (not hosted) and reached without a proxy.
/** True for loopback hosts: everything else is treated as hosted (code leaves the machine). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}
