import { get, isTrue } from '../conf/index.js';
import { isAnyAddress } from '../net.js';
import { finding, type Check } from './types.js';

/** Asterisk's HTTP server (ARI, AMI over HTTP, websockets) on every interface. */
export const TG411: Check = {
  id: 'TG411',
  name: 'http-on-all-interfaces',
  severity: 'high',
  title: 'HTTP server (ARI) on all interfaces',
  why: 'ARI and AMI-over-HTTP accept credentials over Asterisk\'s HTTP server; bound to every interface (and without TLS, in clear text) they can be sniffed and brute-forced, and ARI can originate calls.',
  fix: 'Set `bindaddr=127.0.0.1` in http.conf (put a reverse proxy with TLS in front if remote access is needed); if it must listen on the network, use `tlsenable=yes` with `tlsbindaddr` and firewall the plain port.',
  run(context) {
    const file = context.config.files.get('http.conf');
    const general = file?.sections.find((section) => section.name.toLowerCase() === 'general');
    if (!general || !isTrue(get(general, 'enabled')?.value)) return [];
    const bind = get(general, 'bindaddr');
    if (!bind || !isAnyAddress(bind.value)) return []; // no bindaddr: Asterisk starts no HTTP server
    const tls = isTrue(get(general, 'tlsenable')?.value);
    return [finding(TG411, bind.at, `HTTP bindaddr=${bind.value}: plain HTTP on every interface${tls ? ' (TLS is enabled too, but the plain port stays open)' : ', no TLS'}`)];
  },
};
