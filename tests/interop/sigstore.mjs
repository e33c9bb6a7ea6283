// sigstore.mjs - sigstore-js (@sigstore/bundle + @sigstore/verify, the
// official JavaScript implementation) as a second verifier of the bundles
// ckpt writes, with a public key as the only trust material (no
// transparency log, no timestamps: "key" mode, as model_signing signs).
//
//   node sigstore.mjs KEY.pub BUNDLE [FILE...]
//
// Verifies the DSSE signature over the in-toto statement; then each FILE's
// SHA-256 must be a digest the statement signs (a model_signing resource
// or an SLSA subject).  Prints "ok PREDICATE_TYPE" and exits 0; on failure
// prints the reason and exits 1.
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity } from '@sigstore/verify';

const [keyPath, bundlePath, ...files] = process.argv.slice(2);
try {
    const pem = readFileSync(keyPath, 'utf8');
    // the hint is the SHA-256 of the key as PEM SubjectPublicKeyInfo text,
    // as OpenSSL writes it (the file may be laid out otherwise)
    const canonical = createPublicKey(pem).export({ type: 'spki', format: 'pem' });
    const hint = createHash('sha256').update(canonical).digest('hex');
    const trust = {
        certificateAuthorities: [],
        timestampAuthorities: [],
        tlogs: [],
        ctlogs: [],
        // the bundle names its key by hint: only ours is known
        publicKey: (h) => {
            if (h !== hint) throw new Error(`unknown key hint ${h}`);
            return { publicKey: createPublicKey(pem), validFor: () => true };
        },
    };
    const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
    const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    verifier.verify(toSignedEntity(bundle));
    const stmt = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
    const signed = new Set([
        ...(stmt.subject || []).map((s) => s.digest && s.digest.sha256),
        ...((stmt.predicate && stmt.predicate.resources) || []).map((r) => r.digest),
    ]);
    for (const f of files) {
        const d = createHash('sha256').update(readFileSync(f)).digest('hex');
        if (!signed.has(d)) throw new Error(`${f}: its digest ${d} is not in the statement`);
    }
    console.log(`ok ${stmt.predicateType}`);
} catch (e) {
    console.log(`FAILED: ${e.message}`);
    process.exit(1);
}
