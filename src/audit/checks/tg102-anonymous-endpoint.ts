import { finding, type Check } from './types.js';

/** The PJSIP `anonymous` endpoint takes every request no other endpoint claims. */
export const TG102: Check = {
  id: 'TG102',
  name: 'anonymous-endpoint',
  severity: 'high',
  title: 'PJSIP anonymous endpoint: calls from anyone on the Internet',
  why: 'Requests that match no endpoint are given to the endpoint named "anonymous": every scanner and every stranger lands in its context without a password.',
  fix: 'Remove the [anonymous] endpoint, or point its `context=` at a context that only answers your own DIDs (no patterns, no Dial() to a trunk).',
  run(context) {
    return context.endpoints
      .filter((endpoint) => endpoint.tech === 'PJSIP' && endpoint.name.toLowerCase() === 'anonymous' && !endpoint.authenticated)
      .map((endpoint) => {
        const breakout = context.breakout(endpoint.context);
        return finding(TG102, endpoint.section.at, `the anonymous endpoint sends unidentified callers to context "${endpoint.context}"${breakout ? `, which reaches a trunk (TG201): ${breakout}` : ''}`);
      });
  },
};
