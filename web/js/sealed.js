// Sealed ballots and the trustees' key in the browser: the cryptography of congress/sealed/ (group.py,
// proofs.py, ballot.py, trustees.py), byte for byte. Those Python modules are the specification; every
// function here is named after its Python original, in camelCase, and produces the same JSON.
//
// Scalars are BigInt, group elements are noble's ed25519 Point. On the wire, exactly as in Python:
// a point is 64 lowercase hex digits of its 32-byte RFC 8032 encoding, a scalar 64 lowercase hex digits
// of its 32-byte little-endian form, below L. No DOM here: the pages show the results.
//
// Sealing, checking and hashing are synchronous; the ceremony steps that use WebCrypto (round2, myShare,
// round3) return promises. Load this module with import() inside try/catch: a browser without BigInt
// cannot even parse it. supportsSealing() then tells whether the WebCrypto parts are there (they are not
// on a page outside a secure context).

import {
  Point, bytesToHex, bytesToNumberLE, concatBytes, numberToBytesLE, sha256, sha512,
} from '../vendor/noble-curves-2.4.0.js';

// -- the group (group.py) ------------------------------------------------------------------------

export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
export const DOMAIN = 'congress/sealed/v1';
const IDENTITY = Point.ZERO; // encodes as 01 00…00, like group.IDENTITY
const utf8 = (text) => new TextEncoder().encode(text);

/** A point or scalar from outside that is not a valid group element: names which one. */
export class GroupError extends Error {
  constructor(message) { super(message); this.name = 'GroupError'; }
}

export function supportsSealing() {
  const c = globalThis.crypto;
  return typeof BigInt === 'function' && !!c && typeof c.getRandomValues === 'function'
    && !!c.subtle && typeof c.subtle.importKey === 'function' && typeof TextEncoder === 'function';
}

const mod = (n) => ((n % L) + L) % L;

export const scalarBytes = (n) => numberToBytesLE(mod(n), 32);
export const scalarHex = (n) => bytesToHex(scalarBytes(n));
export const pointHex = (point) => point.toHex();

function randomBytes(count) {
  return crypto.getRandomValues(new Uint8Array(count));
}

/** Uniform in [1, L): 64 random bytes reduced mod L-1 (bias 2^-260), plus one. */
export function randomScalar() {
  return bytesToNumberLE(randomBytes(64)) % (L - 1n) + 1n;
}

/** g^n. Secrets go through here, so noble's constant-time multiply. */
export function baseMul(n) {
  n = mod(n);
  return n === 0n ? IDENTITY : Point.BASE.multiply(n);
}

/** point^n with a secret n (constant time); n = 0 or the identity give the identity, as in Python. */
export function mul(point, n) {
  n = mod(n);
  return n === 0n || point.is0() ? IDENTITY : point.multiply(n);
}

/** point^n where n and the point are public (a proof's published c and s, a check): faster, not
 * constant time, same result. */
function mulPublic(point, n) {
  return point.multiplyUnsafe(mod(n));
}

export function addAll(points) {
  return points.reduce((total, point) => total.add(point), IDENTITY);
}

const HEX64 = /^[0-9a-f]{64}$/;

function hexBytes(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** libsodium's crypto_core_ed25519_is_valid_point: canonical, on the curve, not of small order (so
 * never the identity), in the prime-order subgroup. Returns the point or null. */
function validPoint(bytes) {
  let point;
  try {
    point = Point.fromBytes(bytes, false); // strict RFC 8032: y < p, no x = 0 with the sign bit set
  } catch {
    return null;
  }
  if (point.toHex() !== bytesToHex(bytes) || point.isSmallOrder() || !point.isTorsionFree()) return null;
  return point;
}

/** A point from outside (a ballot, a key, a share), or GroupError naming `what`. */
export function readPoint(text, what) {
  if (typeof text !== 'string' || text.length !== 64) throw new GroupError(`${what} 应为 64 位十六进制的曲线点`);
  if (!/^[0-9a-fA-F]*$/.test(text)) throw new GroupError(`${what} 不是十六进制`);
  const point = HEX64.test(text) ? validPoint(hexBytes(text)) : null;
  if (!point) throw new GroupError(`${what} 不是有效的群元素`);
  return point;
}

/** A scalar from outside, canonical (below L), or GroupError naming `what`. */
export function readScalar(text, what) {
  if (typeof text !== 'string' || text.length !== 64) throw new GroupError(`${what} 应为 64 位十六进制的标量`);
  if (!/^[0-9a-fA-F]*$/.test(text)) throw new GroupError(`${what} 不是十六进制`);
  const value = bytesToNumberLE(hexBytes(text));
  if (!HEX64.test(text) || value >= L) throw new GroupError(`${what} 不是规范的标量`);
  return value;
}

/** The Fiat-Shamir challenge: SHA-512 of the domain tag and the parts joined by '|', little-endian,
 * mod L (as RFC 8032 turns SHA-512 output into a scalar). */
export function hashToScalar(...parts) {
  return bytesToNumberLE(sha512(utf8([DOMAIN, ...parts].join('|')))) % L;
}

/** A secret scalar derived from a trustee's seed: SHA-512 of the label, '|' and the seed, mod L. */
export function deriveScalar(seed, ...labels) {
  const text = utf8([DOMAIN, 'derive', ...labels].join('|'));
  const value = bytesToNumberLE(sha512(concatBytes(text, utf8('|'), seed))) % L;
  return value === 0n ? 1n : value;
}

// -- proofs (proofs.py) --------------------------------------------------------------------------

const pairJson = (pair) => ({ c: scalarHex(pair.c), s: scalarHex(pair.s) });

const isObject = (data) => typeof data === 'object' && data !== null && !Array.isArray(data);

/** One (challenge, response) pair read from outside: exactly {c, s}, as Pair.read requires (an extra
 * key would give a copied ballot a new hash). */
function readPair(data, what) {
  if (!isObject(data) || Object.keys(data).sort().join() !== 'c,s') throw new GroupError(`${what} 应为 {c, s}`);
  return { c: readScalar(data.c, `${what}.c`), s: readScalar(data.s, `${what}.s`) };
}

/** base^s · public^(-c), base null being g. Only published values go in, so the fast multiply. */
function commit(s, c, base, pub) {
  const left = base === null ? Point.BASE.multiplyUnsafe(mod(s)) : mulPublic(base, s);
  return left.subtract(mulPublic(pub, c));
}

export function proveKey(context, secret) {
  const pub = baseMul(secret);
  const w = randomScalar();
  const c = hashToScalar(...context, 'key', pointHex(pub), pointHex(baseMul(w)));
  return { c, s: mod(w + c * secret) };
}

export function verifyKey(context, pub, proof) {
  const commitment = commit(proof.s, proof.c, null, pub);
  return proof.c === hashToScalar(...context, 'key', pointHex(pub), pointHex(commitment));
}

/** D = alpha^x with a proof that log_g(Y) = log_alpha(D), Y = g^x. */
export function proveDecryption(context, secret, alpha) {
  const share = mul(alpha, secret);
  const w = randomScalar();
  const c = hashToScalar(...context, 'decrypt', pointHex(baseMul(secret)), pointHex(alpha), pointHex(share),
    pointHex(baseMul(w)), pointHex(mul(alpha, w)));
  return [share, { c, s: mod(w + c * secret) }];
}

export function verifyDecryption(context, verificationKey, alpha, share, proof) {
  const a = commit(proof.s, proof.c, null, verificationKey);
  const b = commit(proof.s, proof.c, alpha, share);
  return proof.c === hashToScalar(...context, 'decrypt', pointHex(verificationKey), pointHex(alpha),
    pointHex(share), pointHex(a), pointHex(b));
}

/** The branch "m = value": A = g^s·alpha^(-c), B = y^s·(beta/g^value)^(-c). */
function branch(key, alpha, beta, value, pair) {
  const a = commit(pair.s, pair.c, null, alpha);
  const b = commit(pair.s, pair.c, key, beta.subtract(baseMul(BigInt(value))));
  return [pointHex(a), pointHex(b)];
}

/** (alpha, beta) = (g^r, g^m·y^r) with m = values[trueIndex]: proves m is one of `values`, shows
 * nothing of which. The other branches are simulated with a random challenge and response. */
export function proveOneOf(context, key, alpha, beta, r, values, trueIndex) {
  const pairs = [];
  const commitments = [];
  const w = randomScalar();
  values.forEach((value, index) => {
    if (index === trueIndex) {
      pairs.push(null);
      commitments.push(pointHex(baseMul(w)), pointHex(mul(key, w)));
    } else {
      const pair = { c: randomScalar(), s: randomScalar() };
      pairs.push(pair);
      commitments.push(...branch(key, alpha, beta, value, pair));
    }
  });
  const c = hashToScalar(...context, pointHex(alpha), pointHex(beta), ...commitments);
  const others = pairs.reduce((sum, p) => (p === null ? sum : sum + p.c), 0n);
  const cTrue = mod(c - others);
  pairs[trueIndex] = { c: cTrue, s: mod(w + cTrue * r) };
  return pairs;
}

export function verifyOneOf(context, key, alpha, beta, values, proof) {
  if (proof.length !== values.length) return false;
  const commitments = [];
  values.forEach((value, k) => commitments.push(...branch(key, alpha, beta, value, proof[k])));
  const c = hashToScalar(...context, pointHex(alpha), pointHex(beta), ...commitments);
  return proof.reduce((sum, p) => sum + p.c, 0n) % L === c;
}

// -- ballots (ballot.py) -------------------------------------------------------------------------

export const MAX_OPTIONS = 200;

/** A sealed ballot that must be refused, or marks that cannot be sealed; says what is wrong. */
export class BallotError extends Error {
  constructor(message) { super(message); this.name = 'BallotError'; }
}

/** SealedQuestion.of: an election allows 0 to `seats` marks, every other kind exactly one. */
export function sealedQuestion(questionId, kind, options, seats) {
  if (kind === 'election') {
    if (!Number.isInteger(seats) || seats < 1) throw new BallotError(`选举事项 ${questionId} 的应选名额应至少为 1`);
    return { question_id: questionId, options, least: 0, most: Math.min(seats, options) };
  }
  return { question_id: questionId, options, least: 1, most: 1 };
}

/** Python's json.dumps(ensure_ascii=True) of one string: \uXXXX (lowercase) below 0x20 and from 0x7f. */
function jsonString(text) {
  const named = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i); // UTF-16 units: a character beyond U+FFFF becomes its surrogate pair, as in Python
    if (named[ch]) out += named[ch];
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Python sorts keys by code point; JavaScript's default sort compares UTF-16 units. */
function byCodePoint(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

/** The text a ballot's hash is taken over: JSON, keys sorted, no spaces, ASCII only (ballot.canonical).
 * Numbers must be integers: Python writes a float 5.0 as "5.0", which JSON.parse cannot tell from 5. */
export function canonical(data) {
  if (data === null) return 'null';
  if (data === true || data === false) return String(data);
  if (typeof data === 'number') {
    if (!Number.isSafeInteger(data)) throw new Error(`canonical JSON: ${data} is not an integer`);
    return String(data);
  }
  if (typeof data === 'bigint') return data.toString();
  if (typeof data === 'string') return jsonString(data);
  if (Array.isArray(data)) return `[${data.map(canonical).join(',')}]`;
  if (isObject(data)) {
    const keys = Object.keys(data).sort(byCodePoint);
    return `{${keys.map((k) => `${jsonString(k)}:${canonical(data[k])}`).join(',')}}`;
  }
  throw new Error(`canonical JSON: cannot write a ${typeof data}`);
}

/** The receipt: SHA-256 of the canonical ballot, 64 hex digits (synchronous: noble's sha256). */
export function ballotHash(content) {
  return bytesToHex(sha256(utf8(canonical(content))));
}

/** The receipt as a delegate reads it: the hash's first 16 digits in groups of 4. */
export function shortReceipt(full) {
  return full.slice(0, 16).toUpperCase().match(/.{1,4}/g).join('-');
}

function ballotContext(voteId, key, alphas) {
  return ['ballot', `vote:${voteId}`, `key:${pointHex(key)}`, 'alphas:' + alphas.join(',')];
}

function encrypt(key, m) {
  const r = randomScalar();
  return { alpha: baseMul(r), beta: baseMul(BigInt(m)).add(mul(key, r)), r };
}

const ctJson = (ct) => ({ alpha: pointHex(ct.alpha), beta: pointHex(ct.beta) });
const sum = (row) => row.reduce((a, b) => a + b, 0);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A key given as hex (read and checked) or as a Point already read. */
function asPoint(key, what) {
  return typeof key === 'string' ? readPoint(key, what) : key;
}

/** Encrypt a delegate's marks ({question_id: [0/1 per option]}) into a ballot: seal_ballot. */
export function sealBallot(voteId, keyHex, questions, marks) {
  const key = asPoint(keyHex, 'key');
  const encrypted = questions.map((question) => {
    const row = marks[question.question_id];
    if (!Array.isArray(row) || row.length !== question.options || row.some((m) => m !== 0 && m !== 1)) {
      throw new BallotError(`事项 ${question.question_id} 应为 ${question.options} 个 0/1 标记`);
    }
    if (!(question.least <= sum(row) && sum(row) <= question.most)) {
      throw new BallotError(`事项 ${question.question_id} 应选 ${question.least}–${question.most} 项`);
    }
    return { question, cts: row.map((m) => encrypt(key, m)), row };
  });
  const context = ballotContext(voteId, key, encrypted.flatMap((e) => e.cts.map((ct) => pointHex(ct.alpha))));
  const parts = encrypted.map(({ question, cts, row }) => {
    const qctx = [...context, `q:${question.question_id}`];
    const individual = cts.map((ct, k) => proveOneOf([...qctx, `option:${k}`], key, ct.alpha, ct.beta, ct.r, [0, 1],
      row[k]).map(pairJson));
    const totalAlpha = addAll(cts.map((ct) => ct.alpha));
    const totalBeta = addAll(cts.map((ct) => ct.beta));
    const rTotal = cts.reduce((total, ct) => total + ct.r, 0n);
    const allowed = range(question.least, question.most);
    const overall = proveOneOf([...qctx, 'overall'], key, totalAlpha, totalBeta, rTotal, allowed,
      allowed.indexOf(sum(row)));
    return { question_id: question.question_id, choices: cts.map(ctJson), individual_proofs: individual,
             overall_proof: overall.map(pairJson) };
  });
  return { vote_id: voteId, questions: parts };
}

function hasKeys(data, keys) {
  if (!isObject(data)) return false;
  const own = Object.keys(data);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(data, k));
}

function readPairs(data, count, what) {
  if (!Array.isArray(data) || data.length !== count) throw new BallotError(`${what}应有 ${count} 段`);
  try {
    return data.map((item) => readPair(item, what));
  } catch (error) {
    throw error instanceof GroupError ? new BallotError(error.message) : error;
  }
}

/** Every check a ballot must pass (check_ballot): returns {hash}, or throws BallotError saying the
 * first that fails. */
export function checkBallot(voteId, keyHex, questions, content) {
  const key = asPoint(keyHex, 'key');
  if (!hasKeys(content, ['vote_id', 'questions'])) throw new BallotError('密封选票格式不对：应只含 vote_id 与 questions');
  if (content.vote_id !== voteId) {
    throw new BallotError(`这张密封选票属于表决 ${content.vote_id}，不是本次表决 ${voteId}`);
  }
  const parts = content.questions;
  if (!Array.isArray(parts) || parts.length !== questions.length) {
    throw new BallotError(`密封选票应依次包含 ${questions.length} 个事项`);
  }
  const read = questions.map((question, i) => readPart(question, parts[i]));
  const context = ballotContext(voteId, key, read.flatMap((q) => q.cts.map((ct) => pointHex(ct.alpha))));
  for (const { question, part, cts } of read) {
    const where = `事项 ${question.question_id}`;
    const qctx = [...context, `q:${question.question_id}`];
    const proofs = part.individual_proofs;
    if (!Array.isArray(proofs) || proofs.length !== cts.length) throw new BallotError(`${where}：每个密文应有一个 0/1 证明`);
    cts.forEach((ct, k) => {
      const pairs = readPairs(proofs[k], 2, `${where} 第 ${k + 1} 个 0/1 证明`);
      if (!verifyOneOf([...qctx, `option:${k}`], key, ct.alpha, ct.beta, [0, 1], pairs)) {
        throw new BallotError(`${where} 第 ${k + 1} 个密文的 0/1 证明不成立`);
      }
    });
    const allowed = range(question.least, question.most);
    const totalAlpha = addAll(cts.map((ct) => ct.alpha));
    const totalBeta = addAll(cts.map((ct) => ct.beta));
    const pairs = readPairs(part.overall_proof, allowed.length, `${where} 的总数证明`);
    if (!verifyOneOf([...qctx, 'overall'], key, totalAlpha, totalBeta, allowed, pairs)) {
      throw new BallotError(`${where}：所选项数的证明不成立（应选 ${question.least}–${question.most} 项）`);
    }
  }
  return { hash: ballotHash(content) };
}

/** One question of a ballot from outside: its shape and its ciphertexts, read as points. */
function readPart(question, part) {
  const where = `事项 ${question.question_id}`;
  if (!hasKeys(part, ['question_id', 'choices', 'individual_proofs', 'overall_proof'])) {
    throw new BallotError(`${where}：格式不对`);
  }
  if (part.question_id !== question.question_id) throw new BallotError(`${where}：事项顺序不对（收到 ${part.question_id}）`);
  const choices = part.choices;
  if (!Array.isArray(choices) || choices.length !== question.options || question.options > MAX_OPTIONS) {
    throw new BallotError(`${where}：应有 ${question.options} 个密文`);
  }
  try {
    const cts = choices.map((choice, k) => {
      if (!hasKeys(choice, ['alpha', 'beta'])) throw new BallotError(`${where} 第 ${k + 1} 个密文格式不对`);
      return { alpha: readPoint(choice.alpha, `${where} 第 ${k + 1} 个密文 alpha`),
               beta: readPoint(choice.beta, `${where} 第 ${k + 1} 个密文 beta`) };
    });
    return { question, part, cts };
  } catch (error) {
    throw error instanceof GroupError ? new BallotError(error.message) : error;
  }
}

// -- the trustees' key (trustees.py) -------------------------------------------------------------

export const SEED_BYTES = 32;

/** A ceremony message or a decryption share that must be refused; says which and why. */
export class CeremonyError extends Error {
  constructor(message) { super(message); this.name = 'CeremonyError'; }
}

/** Ceremony.context for {congress_id, ceremony_id, trustees, threshold}, checking the threshold. */
export function ceremonyContext(ceremony) {
  const { congress_id: congressId, ceremony_id: ceremonyId, trustees, threshold } = ceremony;
  if (!(threshold >= 1 && threshold <= trustees)) throw new CeremonyError(`门限应在 1 到 ${trustees} 之间`);
  return ['ceremony', `congress:${congressId}`, `ceremony:${ceremonyId}`, `n:${trustees}`, `t:${threshold}`];
}

const indices = (ceremony) => range(1, ceremony.trustees);

/** 32 random bytes: everything a trustee holds derives from them. */
export function newSeed() {
  return randomBytes(SEED_BYTES);
}

/** A seed as bytes; hex text (how a trustee may keep it) is accepted too. */
function seedBytes(seed) {
  if (typeof seed !== 'string') return seed;
  if (!/^([0-9a-f]{2})*$/.test(seed)) throw new CeremonyError('种子应为十六进制');
  return hexBytes(seed);
}

function commSecret(ceremony, seed, index) {
  return deriveScalar(seedBytes(seed), ...ceremonyContext(ceremony), `trustee:${index}`, 'communication');
}

function coefficients(ceremony, seed, index) {
  const context = ceremonyContext(ceremony);
  return range(0, ceremony.threshold - 1).map((k) => deriveScalar(seedBytes(seed), ...context, `trustee:${index}`,
    `coefficient:${k}`));
}

function poly(coeffs, x) {
  return coeffs.reduceRight((value, a) => mod(value * BigInt(x) + a), 0n);
}

/** A map given as a Map or as a plain object keyed by trustee number. */
function entries(map) {
  const list = map instanceof Map ? [...map.entries()] : Object.entries(map);
  return list.map(([k, v]) => [Number(k), v]).sort((a, b) => a[0] - b[0]);
}

function keysMust(data, keys, where) {
  if (!hasKeys(data, keys)) throw new CeremonyError(`${where}：格式不对，应含 ${[...keys].sort().join(', ')}`);
}

/** Turns a GroupError (or a malformed pair) met while reading a message into a CeremonyError. */
function asCeremonyError(error) {
  return error instanceof GroupError ? new CeremonyError(error.message) : error;
}

// round 1: communication keys

export function round1(ceremony, seed, index) {
  const p = commSecret(ceremony, seed, index);
  const proof = proveKey([...ceremonyContext(ceremony), `trustee:${index}`, 'communication'], p);
  return { trustee: index, comm_key: pointHex(baseMul(p)), comm_proof: pairJson(proof) };
}

/** check_round1: the trustee's communication key (a Point), or CeremonyError. */
export function checkRound1(ceremony, index, message) {
  const where = `第 ${index} 位监票人的通信公钥`;
  let key;
  let proof;
  try {
    keysMust(message, ['trustee', 'comm_key', 'comm_proof'], where);
    if (message.trustee !== index) throw new CeremonyError(`${where}：编号应为 ${index}`);
    key = readPoint(message.comm_key, where);
    proof = readPair(message.comm_proof, where);
  } catch (error) {
    throw asCeremonyError(error);
  }
  if (!verifyKey([...ceremonyContext(ceremony), `trustee:${index}`, 'communication'], key, proof)) {
    throw new CeremonyError(`${where}：持有私钥的证明不成立`);
  }
  return key;
}

// round 2: commitments and encrypted shares (ECIES: ephemeral key, HKDF-SHA256, AES-256-GCM)

function shareInfo(ceremony, sender, receiver) {
  return utf8([...ceremonyContext(ceremony), 'share', `from:${sender}`, `to:${receiver}`].join('|'));
}

/** HKDF-SHA256(ikm = the shared point, salt = the ephemeral point, info), 32 bytes, as an AES-GCM key. */
async function shareKey(shared, ephemeral, info) {
  const ikm = await crypto.subtle.importKey('raw', shared.toBytes(), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: ephemeral.toBytes(), info }, ikm,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

const gcm = (nonce, info) => ({ name: 'AES-GCM', iv: nonce, additionalData: info, tagLength: 128 });

/** Round 2 (async): commitments, a proof for the constant term and f(j) sealed to every other
 * trustee's communication key. commKeys: {j: key hex or Point} (or a Map). */
export async function round2(ceremony, seed, index, commKeys) {
  const coeffs = coefficients(ceremony, seed, index);
  const keys = new Map(entries(commKeys));
  const shares = [];
  for (const j of indices(ceremony)) {
    if (j === index) continue;
    if (!keys.has(j)) throw new CeremonyError(`缺少第 ${j} 位监票人的通信公钥`);
    const e = randomScalar();
    const ephemeral = baseMul(e);
    const info = shareInfo(ceremony, index, j);
    const nonce = randomBytes(12);
    const aes = await shareKey(mul(asPoint(keys.get(j), `第 ${j} 位监票人的通信公钥`), e), ephemeral, info);
    const sealed = new Uint8Array(await crypto.subtle.encrypt(gcm(nonce, info), aes, scalarBytes(poly(coeffs, j))));
    shares.push({ to: j, ephemeral: pointHex(ephemeral), sealed: bytesToHex(concatBytes(nonce, sealed)) });
  }
  const proof = proveKey([...ceremonyContext(ceremony), `trustee:${index}`, 'commitment'], coeffs[0]);
  return { trustee: index, commitments: coeffs.map((a) => pointHex(baseMul(a))), key_proof: pairJson(proof), shares };
}

/** check_round2: the public checks of a round-2 message; returns the commitments (Points). */
export function checkRound2(ceremony, index, message) {
  const where = `第 ${index} 位监票人的承诺`;
  const context = ceremonyContext(ceremony); // checks the threshold before it is used
  let commitments;
  let proof;
  try {
    keysMust(message, ['trustee', 'commitments', 'key_proof', 'shares'], where);
    if (message.trustee !== index) throw new CeremonyError(`${where}：编号应为 ${index}`);
    const raw = message.commitments;
    if (!Array.isArray(raw) || raw.length !== ceremony.threshold) {
      throw new CeremonyError(`${where}：应有 ${ceremony.threshold} 个承诺`);
    }
    commitments = raw.map((c, k) => readPoint(c, `${where}第 ${k + 1} 个`));
    proof = readPair(message.key_proof, where);
    const shares = message.shares;
    const receivers = Array.isArray(shares) && shares.every(isObject) ? shares.map((s) => s.to) : null;
    const others = indices(ceremony).filter((j) => j !== index);
    if (!receivers || receivers.length !== others.length || receivers.some((to, i) => to !== others[i])) {
      throw new CeremonyError(`${where}：应依次发给其他每一位监票人一份`);
    }
    for (const share of shares) {
      keysMust(share, ['to', 'ephemeral', 'sealed'], where);
      readPoint(share.ephemeral, `${where}（给第 ${share.to} 位）`);
      if (typeof share.sealed !== 'string' || !/^[0-9a-f]{120}$/.test(share.sealed)) {
        throw new CeremonyError(`${where}（给第 ${share.to} 位）：密文应为 120 位小写十六进制`);
      }
    }
  } catch (error) {
    throw asCeremonyError(error);
  }
  if (!verifyKey([...context, `trustee:${index}`, 'commitment'], commitments[0], proof)) {
    throw new CeremonyError(`${where}：持有系数的证明不成立`);
  }
  return commitments;
}

/** g^f_i(j) from trustee i's public commitments: prod_k C_ik^(j^k). */
export function expectedSharePoint(commitments, j) {
  let power = 1n;
  return addAll(commitments.map((c) => {
    const term = mulPublic(c, power);
    power = mod(power * BigInt(j));
    return term;
  }));
}

/** Trustee `index`'s share x = sum_i f_i(index) (async, a BigInt): their own value plus what each
 * other trustee sent, each checked against its sender's commitments. round2Messages: {i: message}. */
export async function myShare(ceremony, seed, index, round2Messages) {
  const have = new Set(entries(round2Messages).map(([i]) => i));
  const missing = indices(ceremony).filter((i) => i !== index && !have.has(i));
  if (missing.length) throw new CeremonyError(`尚未收到第 ${missing.join('、')} 位监票人的承诺与份额`);
  const p = commSecret(ceremony, seed, index);
  let total = poly(coefficients(ceremony, seed, index), index);
  for (const [sender, message] of entries(round2Messages)) {
    if (sender === index) continue;
    const commitments = checkRound2(ceremony, sender, message);
    const share = message.shares.find((s) => s.to === index);
    const ephemeral = readPoint(share.ephemeral, 'ephemeral');
    const raw = hexBytes(share.sealed);
    const info = shareInfo(ceremony, sender, index);
    let value;
    try {
      const aes = await shareKey(mul(ephemeral, p), ephemeral, info);
      value = bytesToNumberLE(new Uint8Array(await crypto.subtle.decrypt(gcm(raw.slice(0, 12), info), aes, raw.slice(12))));
    } catch (error) {
      if (error instanceof DOMException) throw new CeremonyError(`第 ${sender} 位监票人发来的份额无法解密`);
      throw error;
    }
    if (value >= L || !baseMul(value).equals(expectedSharePoint(commitments, index))) {
      throw new CeremonyError(`第 ${sender} 位监票人发来的份额与其公开承诺不符`);
    }
    total = mod(total + value);
  }
  return total;
}

/** Commitments given as {i: [hex or Point]} (or a Map), in trustee order. */
function commitmentLists(commitments) {
  return entries(commitments).map(([i, cs]) => cs.map((c, k) => asPoint(c, `第 ${i} 位监票人的第 ${k + 1} 个承诺`)));
}

/** Y_j = g^x_j, computed by anyone from all the commitments (hex). */
export function verificationKey(commitments, j) {
  return pointHex(addAll(commitmentLists(commitments).map((cs) => expectedSharePoint(cs, j))));
}

export function jointKey(commitments) {
  return pointHex(addAll(commitmentLists(commitments).map((cs) => cs[0])));
}

/** Round 3 (async): confirm with Y_j, or complain about the first trustee whose value does not check. */
export async function round3(ceremony, seed, index, round2Messages) {
  let x;
  try {
    x = await myShare(ceremony, seed, index, round2Messages);
  } catch (error) {
    if (error instanceof CeremonyError) return { trustee: index, complaint: error.message };
    throw error;
  }
  return { trustee: index, verification_key: pointHex(baseMul(x)) };
}

// decryption shares (their context as counting.py makes it)

/** SHA-256 over the sorted ballot hashes, one per line (counting.ballots_digest). */
export function ballotsDigest(hashes) {
  return bytesToHex(sha256(utf8([...hashes].sort(byCodePoint).join('\n'))));
}

/** What a decryption share is bound to: this vote, this key (hex), this set of ballots. */
export function decryptionContext(voteId, publicKey, digest) {
  return ['tally', `vote:${voteId}`, `key:${publicKey}`, `ballots:${digest}`];
}

/** A share given as a BigInt or as scalar hex. */
const asScalar = (share) => (typeof share === 'bigint' ? share : readScalar(share, 'share'));

/** Trustee `index`'s decryption share of each ciphertext (alpha^x_j), each with its proof.
 * context: the caller's list of labels; share: x_j from myShare; alphasHex: the alphas to decrypt. */
export function decryptShares(context, index, share, alphasHex) {
  const x = asScalar(share);
  const out = alphasHex.map((alphaHex, k) => {
    const alpha = asPoint(alphaHex, `第 ${k + 1} 个 alpha`);
    const [d, proof] = proveDecryption([...context, `trustee:${index}`, `item:${k}`], x, alpha);
    return { share: pointHex(d), proof: pairJson(proof) };
  });
  return { trustee: index, shares: out };
}

/** check_decryption: trustee `index`'s checked shares (Points), or CeremonyError. */
export function checkDecryption(context, index, verification, alphasHex, message) {
  const where = `第 ${index} 位监票人的解密份额`;
  const y = asPoint(verification, 'verification key');
  const alphas = alphasHex.map((a, k) => asPoint(a, `第 ${k + 1} 个 alpha`));
  try {
    keysMust(message, ['trustee', 'shares'], where);
    if (message.trustee !== index || !Array.isArray(message.shares) || message.shares.length !== alphas.length) {
      throw new CeremonyError(`${where}：应为第 ${index} 位的 ${alphas.length} 份`);
    }
    return alphas.map((alpha, k) => {
      const item = message.shares[k];
      keysMust(item, ['share', 'proof'], where);
      const d = readPoint(item.share, `${where}第 ${k + 1} 份`);
      if (!verifyDecryption([...context, `trustee:${index}`, `item:${k}`], y, alpha, d, readPair(item.proof, where))) {
        throw new CeremonyError(`${where}：第 ${k + 1} 份的解密证明不成立`);
      }
      return d;
    });
  } catch (error) {
    throw asCeremonyError(error);
  }
}

function inverse(a) {
  // Fermat: L is prime
  let result = 1n;
  let base = mod(a);
  for (let e = L - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % L;
    base = (base * base) % L;
  }
  return result;
}

export function lagrangeAtZero(indicesList, i) {
  return indicesList.reduce((value, j) => (j === i ? value : mod(value * BigInt(j) * inverse(BigInt(j - i)))), 1n);
}

/** g^m (hex) for each ciphertext from exactly t trustees' checked shares: beta / prod_j D_j^lambda_j.
 * betasHex: hex; shares: {j: [Point or hex]} (or a Map). */
export function combine(betasHex, shares) {
  const list = entries(shares).map(([j, ds]) => [j, ds.map((d) => asPoint(d, `第 ${j} 位的解密份额`))]);
  const who = list.map(([j]) => j);
  return betasHex.map((betaHex, k) => {
    const d = addAll(list.map(([j, ds]) => mulPublic(ds[k], lagrangeAtZero(who, j))));
    return pointHex(asPoint(betaHex, 'beta').subtract(d));
  });
}
