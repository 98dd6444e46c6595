/** The only list of audit checks: the command, the docs and the tests read it. */
import { TG101 } from './tg101-endpoint-without-auth.js';
import { TG102 } from './tg102-anonymous-endpoint.js';
import { TG103 } from './tg103-identify-any-address.js';
import { TG104 } from './tg104-sip-allowguest.js';
import { TG105 } from './tg105-sip-insecure.js';
import { TG106 } from './tg106-iax-guest.js';
import { TG201 } from './tg201-open-breakout.js';
import { TG202 } from './tg202-disa.js';
import { TG203 } from './tg203-wide-pattern.js';
import { TG204 } from './tg204-no-lock-check.js';
import { TG205 } from './tg205-dialplan-not-analysed.js';
import { TG301 } from './tg301-weak-secret.js';
import { TG302 } from './tg302-numeric-username.js';
import { TG303 } from './tg303-sip-alwaysauthreject.js';
import { TG401 } from './tg401-ami-bindaddr.js';
import { TG402 } from './tg402-ami-permit.js';
import { TG403 } from './tg403-ami-weak-secret.js';
import { TG404 } from './tg404-ami-write-rights.js';
import { TG411 } from './tg411-http-all-interfaces.js';
import { TG412 } from './tg412-ari-weak-password.js';
import { TG501 } from './tg501-no-call-limit.js';
import { TG502 } from './tg502-transport-no-acl.js';
import { TG503 } from './tg503-unauthenticated-options.js';
import { TG504 } from './tg504-aor-max-contacts.js';
import type { Check } from './types.js';

export const CHECKS: readonly Check[] = [TG101, TG102, TG103, TG104, TG105, TG106, TG201, TG202, TG203, TG204, TG205, TG301, TG302, TG303, TG401, TG402, TG403, TG404, TG411, TG412, TG501, TG502, TG503, TG504];
