/** `tollgate audit --ami` over a real TCP connection, against a minimal AMI server that answers GetConfig. */
import net from 'node:net';
import { auditForDisplay } from '../../../src/commands/audit.js';

const FILES: Record<string, string[]> = {
  'pjsip.conf': ['Category-000000: 1001', 'Line-000000-000000: type=endpoint', 'Line-000000-000001: context=from-internal', 'Line-000000-000002: auth=1001-auth', 'Line-000000-000003: device_state_busy_at=2', 'Category-000001: 1001-auth', 'Line-000001-000000: type=auth', 'Line-000001-000001: username=alice', 'Line-000001-000002: password=1234'],
  'manager.conf': ['Category-000000: general', 'Line-000000-000000: enabled=yes', 'Line-000000-000001: bindaddr=0.0.0.0'],
};

function fakeAsterisk(): Promise<{ server: net.Server; port: number; asked: string[] }> {
  const asked: string[] = [];
  const server = net.createServer((socket) => {
    socket.write('Asterisk Call Manager/9.0.0\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      let end: number;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        const lines = buffer.slice(0, end).split('\r\n');
        buffer = buffer.slice(end + 4);
        const field = (key: string): string => lines.find((line) => line.toLowerCase().startsWith(`${key.toLowerCase()}:`))?.split(':').slice(1).join(':').trim() ?? '';
        const action = field('Action').toLowerCase();
        const id = field('ActionID');
        if (action === 'login') socket.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
        else if (action === 'getconfig') {
          const name = field('Filename');
          asked.push(name);
          const body = FILES[name];
          socket.write(body ? `Response: Success\r\nActionID: ${id}\r\n${body.join('\r\n')}\r\n\r\n` : `Response: Error\r\nActionID: ${id}\r\nMessage: Config file not found\r\n\r\n`);
        } else if (action === 'logoff') socket.end(`Response: Goodbye\r\nActionID: ${id}\r\n\r\n`);
        else socket.write(`Response: Success\r\nActionID: ${id}\r\n\r\n`);
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, asked })));
}

describe('tollgate audit --ami', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads the running configuration with GetConfig and reports GetConfig locations', async () => {
    const { server, port, asked } = await fakeAsterisk();
    try {
      Object.assign(process.env, { TOLLGATE_AMI_HOST: '127.0.0.1', TOLLGATE_AMI_PORT: String(port), TOLLGATE_AMI_USERNAME: 'audit', TOLLGATE_AMI_SECRET: 'x' });
      const { code, lines, errors } = await auditForDisplay({ etc: '/nonexistent', ami: true, failOn: 'high' });
      expect(asked).toEqual(['pjsip.conf', 'pjsip_wizard.conf', 'sip.conf', 'iax.conf', 'extensions.conf', 'manager.conf', 'http.conf', 'ari.conf', 'modules.conf']);
      expect(errors).toHaveLength(7);
      expect(errors[0]).toMatch(/pjsip_wizard\.conf not read over AMI: .*Config file not found/);
      const text = lines.join('\n');
      expect(text).toContain('running configuration over AMI');
      expect(text).toContain('pjsip.conf (running config, GetConfig category 1 line 2): PJSIP 1001 (user "alice"): password (4 characters) is weak');
      expect(text).toContain('manager.conf (running config, GetConfig category 0 line 1): AMI bindaddr=0.0.0.0');
      expect(code).toBe(1);
    } finally {
      server.close();
    }
  });

  it('exits 2 when Asterisk cannot be reached', async () => {
    const { server, port } = await fakeAsterisk();
    server.close();
    Object.assign(process.env, { TOLLGATE_AMI_HOST: '127.0.0.1', TOLLGATE_AMI_PORT: String(port), TOLLGATE_AMI_SECRET: 'x' });
    const { code, errors } = await auditForDisplay({ etc: '/nonexistent', ami: true, failOn: 'high' });
    expect(code).toBe(2);
    expect(errors[0]).toMatch(/^tollgate audit: /);
  });
});
