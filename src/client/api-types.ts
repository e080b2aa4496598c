// Generated from the service's OpenAPI document (src/http/openapi.ts) by openapi-typescript:
// do not edit; run `npm run gen:client` after changing a route or schema.
export interface paths {
    "/inputs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Seal an inputs document */
        put: operations["sealInputs"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/inputs/{cid}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The exact sealed inputs bytes */
        get: operations["getInputs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/policies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Seal a policy document */
        put: operations["sealPolicy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/policies/{policy_hash}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The exact sealed policy bytes */
        get: operations["getPolicy"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/compute": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Compute and bind an epoch
         * @description A repeat of the same (epoch, inputs_cid, policy_hash) answers the same bytes with Idempotent-Replayed; concurrent repeats compute once.
         */
        post: operations["computeEpoch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * What a candidate policy (or inputs) would pay for a bound epoch, compared with what it pays
         * @description Computed like a dry run (nothing is bound, published or sent to the ledger) and compared with the bound run: `a` is the bound run, `b` the candidate (rewarder.comparison/v1, the same document as `rewarder diff`). inputs_cid defaults to the bound run's; top (default 10) bounds the gainers and losers listed.
         */
        post: operations["previewEpoch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The manifest bytes (ETag = commitment) */
        get: operations["getManifest"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/attestation": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The attestation of the manifest (404 while signing is off) */
        get: operations["getAttestation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/payouts/{actor}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A payee's amount and its inclusion proof */
        get: operations["getPayoutProof"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/export.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The payees as accounting CSV (SPEC §12)
         * @description A header line `actor,amount_minor,score`, then one RFC 4180 line per payee in payee order, LF line ends. Derived from the manifest, unsigned.
         */
        get: operations["getPayoutsCsv"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/claims": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The OpenZeppelin StandardMerkleTree dump for on-chain claims (SPEC §12)
         * @description `standard-v1` over values [actor, amount_minor] with leaf encoding ["string","uint256"]: StandardMerkleTree.load() takes it, and its root is what @openzeppelin/merkle-tree computes from the same values, so Solidity MerkleProof verifiers accept its proofs. 404 no_payees for an epoch without payees (a tree needs a leaf).
         */
        get: operations["getClaimTree"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/explain/{actor}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Why an actor got its amount, or nothing (SPEC §11 rewarder.explanation/v1) */
        get: operations["getExplanation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/correction": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** SPEC §13: the correction document of a superseding epoch (404 until its basis is fixed, or when it settled as a plain intent) */
        get: operations["getCorrection"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/correction/attestation": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** SPEC §13: the correction's attestation, over "rewarder.correction.v1:" + correction_commitment (404 while signing is off or there is no correction) */
        get: operations["getCorrectionAttestation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/epochs/{epoch_id}/ledger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The run's ledger settlement, part by part */
        get: operations["getLedgerState"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/programs/{program}/epochs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A program's bound epochs in window order, with who bound each (SPEC §10)
         * @description A program the token does not hold is 404. Pass next as after for the following page.
         */
        get: operations["listProgramEpochs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Public signing keys, retired ones included (empty while signing is off) */
        get: operations["getKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/ledger/redrive": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Move ledger parts left failed (of one epoch, or all) back to pending, for the drainer to send again
         * @description Conflicts are never re-driven: a different body under the same part_id is a bug or an attack (RUNBOOK). SPEC §10: epoch_id must be in the token's programs (else 404); without it, the token must hold every program ("*", else 403).
         */
        post: operations["redriveLedgerParts"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/version": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Build, profile, limits, calculus version and which native backends are in use */
        get: operations["getVersion"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["getOpenApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * rewarder.inputs/v1
         * @description SPEC §2; bounds (bytes, actors, events) are in /version
         */
        InputsDocument: {
            /** @constant */
            schema: "rewarder.inputs/v1";
            window: {
                start_ms: number;
                end_ms: number;
            };
            pool_minor: string;
            kinds: string[];
            /** @description strictly ascending by UTF-8 bytes */
            actors: string[];
            events: {
                actor: string;
                kind: string;
                qty: number;
                ts: number;
            }[] | {
                actor: number[];
                kind: number[];
                qty: number[];
                ts: number[];
            };
        };
        /**
         * rewarder.policy/v1
         * @description SPEC §3
         */
        PolicyDocument: {
            /** @constant */
            schema: "rewarder.policy/v1";
            id: string;
            /** @enum {string} */
            rounding: "floor" | "largest_remainder";
            kinds: {
                [key: string]: {
                    weight: number;
                    divisor?: number;
                    cap?: number;
                };
            };
            pool_cap_minor?: string;
            max_payout_minor?: string;
            min_payout_minor?: string;
            /** @description strictly ascending by UTF-8 bytes */
            exclude?: string[];
        };
        InputsSealed: {
            inputs_cid: string;
            bytes: number;
            actors: number;
            events: number;
        };
        PolicySealed: {
            policy_id: string;
            policy_hash: string;
        };
        ComputeRequest: {
            inputs_cid: string;
            policy_id: string;
            policy_hash: string;
            dry_run?: boolean;
            deadline_ms?: number;
            notes?: string;
            /** @description SPEC §13: the bound epoch this one corrects (scope rewarder.correct); same program, same inputs window */
            supersedes?: string;
        };
        ComputeResponse: {
            epoch_id: string;
            run_key: string;
            inputs_cid: string;
            policy: {
                id: string;
                hash: string;
            };
            window: {
                start_ms: number;
                end_ms: number;
            };
            counts: {
                actors: number;
                events: number;
                excluded_actors: number;
                ignored_events: number;
                payees: number;
            };
            totals: {
                below_min_minor: string;
                capped_minor: string;
                payout_minor: string;
                pool_input_minor: string;
                pool_minor: string;
                residual_minor: string;
                rounding_dust_minor: string;
            };
            payouts_root: string;
            commitment: string;
            dry_run: boolean;
            ledger: {
                state: string;
            };
            quarantine: boolean;
            /** @description SPEC §13: the parts are not sent before this instant (RFC 3339 UTC, ms); present when the program holds */
            hold_until?: string;
            /** @description SPEC §13: the epoch this one supersedes */
            supersedes?: string;
            /** @description dry_run with supersedes: the correction on the basis acknowledged now (basis_complete false: parts of the chain may still be acknowledged) */
            correction?: {
                supersedes: {
                    epoch_id: string;
                    commitment: string;
                };
                basis_complete: boolean;
                basis: string[];
                plain: boolean;
                entries: {
                    actor: string;
                    /** @enum {string} */
                    op: "credit" | "debit";
                    amount_minor: string;
                }[];
                totals: {
                    credit_minor: string;
                    debit_minor: string;
                };
            } & {
                [key: string]: unknown;
            };
        };
        /**
         * rewarder.manifest/v1
         * @description SPEC §5: JCS bytes, identical for identical (epoch_id, inputs_cid, policy_hash)
         */
        Manifest: {
            /** @constant */
            schema: "rewarder.manifest/v1";
            /** @constant */
            calculus: "rewarder.calculus/v1";
            epoch_id: string;
            run_key: string;
            inputs_cid: string;
            policy: {
                id: string;
                hash: string;
            };
            window: {
                start_ms: number;
                end_ms: number;
            };
            counts: {
                actors: number;
                events: number;
                excluded_actors: number;
                ignored_events: number;
                payees: number;
            };
            totals: {
                below_min_minor: string;
                capped_minor: string;
                payout_minor: string;
                pool_input_minor: string;
                pool_minor: string;
                residual_minor: string;
                rounding_dust_minor: string;
            };
            payouts_root: string;
            payouts: {
                actor: string;
                amount_minor: string;
                score: string;
            }[];
            commitment: string;
        };
        /** @description SPEC §6: signatures over "rewarder.attestation.v1:" + commitment */
        Attestation: {
            commitment: string;
            signatures: {
                /** @enum {string} */
                alg: "ML-DSA-65" | "Ed25519";
                key_id: string;
                sig: string;
            }[];
        };
        /**
         * rewarder.correction/v1
         * @description SPEC §13: JCS bytes; correction_commitment = b3(JCS(document without it))
         */
        Correction: {
            /** @constant */
            schema: "rewarder.correction/v1";
            epoch_id: string;
            commitment: string;
            supersedes: {
                epoch_id: string;
                commitment: string;
            };
            basis: string[];
            entries: {
                actor: string;
                /** @enum {string} */
                op: "credit" | "debit";
                amount_minor: string;
            }[];
            totals: {
                credit_minor: string;
                debit_minor: string;
            };
            correction_commitment: string;
        };
        PayoutProof: {
            actor: string;
            amount_minor: string;
            epoch_id: string;
            leaf_index: number;
            tree_size: number;
            audit_path: string[];
            payouts_root: string;
        };
        Explanation: {
            /** @constant */
            schema: "rewarder.explanation/v1";
            epoch_id: string;
            commitment: string;
            actor: string;
            /** @enum {string} */
            status: "not_in_inputs" | "excluded" | "no_usage" | "zero_score" | "zero_share" | "below_min" | "paid";
            score: string;
            total_score: string;
            pool_minor: string;
            base_minor: string;
            remainder: string;
            remainder_rank: number | null;
            plus_one: boolean;
            ceiling_cut_minor: string;
            below_min_cut_minor: string;
            amount_minor: string;
            kinds: {
                kind: string;
                quantity: string;
                capped_quantity: string;
                weight: number;
                divisor: number;
                term: string;
            }[];
            proof: {
                leaf_index: number;
                tree_size: number;
                audit_path: string[];
                payouts_root: string;
            } | null;
        };
        PreviewRequest: {
            inputs_cid?: string;
            policy_id: string;
            policy_hash: string;
            top?: number;
            deadline_ms?: number;
        };
        Comparison: {
            /** @constant */
            schema: "rewarder.comparison/v1";
            a: {
                epoch_id: string;
                commitment: string;
                inputs_cid: string;
                policy_hash: string;
            };
            b: {
                epoch_id: string;
                commitment: string;
                inputs_cid: string;
                policy_hash: string;
            };
            totals: {
                below_min_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
                capped_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
                payout_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
                pool_input_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
                pool_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
                residual_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
                rounding_dust_minor: {
                    a_minor: string;
                    b_minor: string;
                    delta_minor: string;
                };
            };
            payees: {
                a: number;
                b: number;
                added: number;
                removed: number;
                changed: number;
                unchanged: number;
            };
            gainers: {
                actor: string;
                a_minor: string;
                b_minor: string;
                delta_minor: string;
            }[];
            losers: {
                actor: string;
                a_minor: string;
                b_minor: string;
                delta_minor: string;
            }[];
            distribution: {
                a: {
                    payees: number;
                    median_minor: string;
                    p90_minor: string;
                    p99_minor: string;
                    top_1pct_share_bp: number;
                    top_10pct_share_bp: number;
                    gini_bp: number;
                };
                b: {
                    payees: number;
                    median_minor: string;
                    p90_minor: string;
                    p99_minor: string;
                    top_1pct_share_bp: number;
                    top_10pct_share_bp: number;
                    gini_bp: number;
                };
            };
        };
        LedgerState: {
            epoch_id: string;
            run_key: string;
            /** @enum {string} */
            state: "none" | "pending" | "held" | "on_hold" | "awaiting_basis" | "accepted" | "failed" | "cancelled";
            /** @description SPEC §13: parts wait until this instant (RFC 3339), null without a hold */
            hold_until: string | null;
            supersedes: string | null;
            superseded_by: string | null;
            /** @description ledger egress degraded (quarantine-only mode) */
            degraded: boolean;
            parts: {
                part_id: string;
                index: number;
                count: number;
                /** @enum {string} */
                state: "pending" | "held" | "on_hold" | "awaiting_basis" | "accepted" | "dup" | "conflict" | "failed" | "cancelled";
                attempts: number;
                last_error: string | null;
            }[];
        };
        KeySet: {
            keys: {
                /** @enum {string} */
                alg: "ML-DSA-65" | "Ed25519";
                key_id: string;
                public_key: string;
                signing: boolean;
            }[];
        };
        Health: {
            /** @constant */
            ok: true;
        };
        Readiness: {
            degraded: boolean;
            causes: string[];
            retry_after?: number;
        };
        /** @description open to new members: operators read it, clients should not depend on its shape beyond these */
        Version: {
            /** @constant */
            service: "svc-rewarder";
            version: string;
            build: string;
            /** @constant */
            calculus: "rewarder.calculus/v1";
            /** @enum {string} */
            profile: "micronode" | "macronode";
            /** @enum {string} */
            auth: "on" | "off";
            /** @enum {string} */
            stores: "memory" | "postgres";
            signing: "off" | {
                key_ids: string[];
            };
            compute_workers: number;
            native: {
                /** @enum {string} */
                merkle: "native" | "js";
                /** @enum {string} */
                ml_dsa_signing: "native" | "js";
            };
            limits: {
                inputs_max_bytes: number;
                inputs_arrow_max_bytes: number;
                req_body_max_bytes: number;
                decomp_ratio_max: number;
                max_actors: number;
                max_events: number;
                max_kinds: number;
                work_queue_max: number;
                max_inflight: number;
                tenant_rps_max: number;
                default_deadline_ms: number;
                max_deadline_ms: number;
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        RedriveResult: {
            redriven: number;
            epoch_id?: string;
        };
        ProgramEpochs: {
            epochs: {
                epoch_id: string;
                window: {
                    start_ms: number;
                    end_ms: number;
                };
                inputs_cid: string;
                policy_hash: string;
                commitment: string;
                payees: number;
                payout_minor: string;
                ledger: {
                    state: string;
                    parts: number;
                };
                bound: {
                    tenant: string;
                    corr_id: string | null;
                    at: string;
                };
            }[];
            next: string | null;
        };
        Error: {
            error: {
                code: string;
                message: string;
                corr_id: string;
                details: {
                    reason: string;
                } & {
                    [key: string]: unknown;
                };
            };
        };
    };
    responses: {
        /** @description invalid path parameter (details.param; invalid_program: an epoch id whose prefix is not a program name), query (invalid_query, invalid_cursor), body (details.problem) or document (details.path, details.problem) */
        E400: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "BAD_REQUEST";
                    };
                };
            };
        };
        /** @description missing, malformed or unknown bearer token */
        E401: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the scheme expected */
                "WWW-Authenticate": "Bearer";
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "UNAUTHENTICATED";
                    };
                };
            };
        };
        /** @description the token lacks the route's scope (details.scope) */
        E403: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "FORBIDDEN";
                    };
                };
            };
        };
        /** @description unknown inputs, policy, epoch, program, payee or attestation, or no claim tree for an epoch without payees (details.reason). SPEC §10: also any epoch or listing outside the token's programs, and any document the tenant has not sealed itself, with exactly the body of a missing one */
        E404: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "NOT_FOUND";
                    };
                };
            };
        };
        /** @description the request body arrived below BODY_MIN_RATE_BYTES_S after its grace (details.reason body_too_slow; the connection is closed) */
        E408: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "REQUEST_TIMEOUT";
                    };
                };
            };
        };
        /** @description CONFLICT: the epoch is bound to another triple (details.differs; details.bound only to the tenant that bound it); WINDOW_OVERLAP: the inputs window overlaps that of an epoch bound in the same program (details.epoch_id); QUARANTINED: an invariant failed, nothing published; ALREADY_SUPERSEDED: the epoch named by supersedes already has a successor (details.superseded_by); WINDOW_MISMATCH: the inputs window differs from that of the epoch superseded (details.window) */
        E409: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "CONFLICT" | "QUARANTINED" | "WINDOW_OVERLAP" | "ALREADY_SUPERSEDED" | "WINDOW_MISMATCH";
                    };
                };
            };
        };
        /** @description the run was evicted under the memory store's retention budget and its documents are no longer held (details.reason evicted, details.missing); its binding remains */
        E410: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "GONE";
                    };
                };
            };
        };
        /** @description body, or decompressed body, over its cap (details.limit_bytes) or over DECOMP_RATIO_MAX; QUOTA_EXCEEDED: the tenant's sealed documents would pass its quota (details.limit_bytes, used_bytes, document_bytes) */
        E413: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "PAYLOAD_TOO_LARGE" | "QUOTA_EXCEEDED";
                    };
                };
            };
        };
        /** @description not application/json (PUT /inputs: nor application/vnd.apache.arrow.stream), or a Content-Encoding other than gzip or identity */
        E415: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "UNSUPPORTED_MEDIA_TYPE";
                    };
                };
            };
        };
        /** @description POLICY_MISMATCH: policy_id does not match the stored policy; POOL_OVER_BUDGET: the pool (after pool_cap_minor) exceeds the program's max_pool_minor (PROGRAMS_FILE) */
        E422: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "POLICY_MISMATCH" | "POOL_OVER_BUDGET";
                    };
                };
            };
        };
        /** @description the tenant's rate limit, the tenant over its share of the compute queue (tenant_share), or too many bodies in progress from this client address (bodies_per_client) */
        E429: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description seconds to wait before retrying */
                "Retry-After": string;
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "RATE_LIMITED";
                    };
                };
            };
        };
        /** @description a bug: logged whole, answered generically */
        E500: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "INTERNAL";
                    };
                };
            };
        };
        /** @description overloaded (in-flight cap, queue_full, queue_wait, bodies in progress, body byte budget), compute breaker open, worker failed, store full of unsettled runs or down, the amnesia tmpfs too full to spool an upload (spool_failed), or shutting down */
        E503: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description seconds to wait before retrying */
                "Retry-After": string;
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "OVERLOADED" | "UNAVAILABLE";
                    };
                };
            };
        };
        /** @description deadline exceeded: on arrival, by the cost estimate, mid-run, or after publication (details.run_key: the run is published, its ledger intent follows) */
        E504: {
            headers: {
                /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                "X-Corr-ID": string;
                /** @description on every answer */
                "X-Content-Type-Options": "nosniff";
                /** @description answers that change with state, and errors, are not stored */
                "Cache-Control": "no-store";
                /** @description seconds to wait before retrying */
                "Retry-After": string;
                /** @description how far past its deadline the request was */
                "X-Deadline-Exceeded-By-Ms": string;
                /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                "X-RateLimit-Limit"?: string;
                /** @description tokens left in the bucket after this request */
                "X-RateLimit-Remaining"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        code?: "DEADLINE_EXCEEDED";
                        details?: {
                            /** @enum {string} */
                            reason: "deadline_arrival" | "deadline_estimate" | "deadline_aborted" | "deadline_ledger";
                            /** @description the budget the request had (0 when X-Deadline was already past) */
                            deadline_ms: number;
                            elapsed_ms: number;
                            exceeded_by_ms: number;
                            run_key?: string;
                        };
                    };
                };
            };
        };
        /** @description request header block over MAX_HEADER_SIZE (answered by Node before routing, without a body) */
        E431: {
            headers: {
                [name: string]: unknown;
            };
            content?: never;
        };
    };
    parameters: {
        /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
        XCorrID: string;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    sealInputs: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description gzip (decoded by a streaming guard: ratio and byte caps) or identity; anything else is 415 */
                "Content-Encoding"?: string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description rewarder.inputs/v1 (row or columnar form, application/json) at most INPUTS_MAX_BYTES, or rewarder.inputs.arrow/v1 (SPEC §2.1, an Arrow IPC stream) at most INPUTS_ARROW_MAX_BYTES, on the wire and decoded; the media type must match the body */
        requestBody: {
            content: {
                "application/json": components["schemas"]["InputsDocument"];
                "application/vnd.apache.arrow.stream": string;
            };
        };
        responses: {
            /** @description this tenant had already sealed these bytes */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    /** @description the stages in ms (a run: queue, compute, publish, ledger, …; a seal: receive, seal, store); never in the body */
                    "Server-Timing"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InputsSealed"];
                };
            };
            /** @description stored for this tenant (its first sealing of these bytes, whoever else holds them) */
            201: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    /** @description the stages in ms (a run: queue, compute, publish, ledger, …; a seal: receive, seal, store); never in the body */
                    "Server-Timing"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InputsSealed"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            408: components["responses"]["E408"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getInputs: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description the ETag held: 304 when it matches */
                "If-None-Match"?: string;
            };
            path: {
                /** @description the inputs CID */
                cid: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the document as sealed, byte for byte (application/json, or an Arrow IPC stream for the Arrow form) */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InputsDocument"];
                    "application/vnd.apache.arrow.stream": string;
                };
            };
            /** @description not modified (If-None-Match matched) */
            304: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    sealPolicy: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description gzip (decoded by a streaming guard: ratio and byte caps) or identity; anything else is 415 */
                "Content-Encoding"?: string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description rewarder.policy/v1, at most REQ_BODY_MAX_BYTES */
        requestBody: {
            content: {
                "application/json": components["schemas"]["PolicyDocument"];
            };
        };
        responses: {
            /** @description this tenant had already sealed these bytes */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicySealed"];
                };
            };
            /** @description stored for this tenant (its first sealing of these bytes, whoever else holds them) */
            201: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicySealed"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            408: components["responses"]["E408"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getPolicy: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description the ETag held: 304 when it matches */
                "If-None-Match"?: string;
            };
            path: {
                /** @description the policy hash */
                policy_hash: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the document as sealed, byte for byte */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicyDocument"];
                };
            };
            /** @description not modified (If-None-Match matched) */
            304: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    computeEpoch: {
        parameters: {
            query?: {
                /** @description relative deadline; the body's deadline_ms wins over it */
                deadline_ms?: number;
            };
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description absolute deadline (RFC 3339); wins over deadline_ms */
                "X-Deadline"?: string;
                /** @description gzip (decoded by a streaming guard: ratio and byte caps) or identity; anything else is 415 */
                "Content-Encoding"?: string;
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ComputeRequest"];
            };
        };
        responses: {
            /** @description published and settled (or no ledger), a dry run, or a replay */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    /** @description present on a repeat of a bound triple: the same bytes as the first answer */
                    "Idempotent-Replayed"?: "true";
                    /** @description the stages in ms (a run: queue, compute, publish, ledger, …; a seal: receive, seal, store); never in the body */
                    "Server-Timing"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ComputeResponse"];
                };
            };
            /** @description published; the ledger intent is held (quarantine: true) or pending, and will be emitted without another call */
            202: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    /** @description present on a repeat of a bound triple: the same bytes as the first answer */
                    "Idempotent-Replayed"?: "true";
                    /** @description the stages in ms (a run: queue, compute, publish, ledger, …; a seal: receive, seal, store); never in the body */
                    "Server-Timing"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ComputeResponse"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            408: components["responses"]["E408"];
            409: components["responses"]["E409"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
            504: components["responses"]["E504"];
        };
    };
    previewEpoch: {
        parameters: {
            query?: {
                /** @description relative deadline; the body's deadline_ms wins over it */
                deadline_ms?: number;
            };
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description absolute deadline (RFC 3339); wins over deadline_ms */
                "X-Deadline"?: string;
                /** @description gzip (decoded by a streaming guard: ratio and byte caps) or identity; anything else is 415 */
                "Content-Encoding"?: string;
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PreviewRequest"];
            };
        };
        responses: {
            /** @description the comparison (canonical JSON) */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    /** @description the stages in ms (a run: queue, compute, publish, ledger, …; a seal: receive, seal, store); never in the body */
                    "Server-Timing": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Comparison"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            408: components["responses"]["E408"];
            409: components["responses"]["E409"];
            410: components["responses"]["E410"];
            413: components["responses"]["E413"];
            415: components["responses"]["E415"];
            422: components["responses"]["E422"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
            504: components["responses"]["E504"];
        };
    };
    getManifest: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description the ETag held: 304 when it matches */
                "If-None-Match"?: string;
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the manifest (JCS), byte for byte */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Manifest"];
                };
            };
            /** @description not modified (If-None-Match matched) */
            304: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            410: components["responses"]["E410"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getAttestation: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description the ETag held: 304 when it matches */
                "If-None-Match"?: string;
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the attestation */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Attestation"];
                };
            };
            /** @description not modified (If-None-Match matched) */
            304: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getPayoutProof: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
                /** @description the actor id (percent-encoded) */
                actor: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the proof (RFC 6962 audit path) */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PayoutProof"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            410: components["responses"]["E410"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getPayoutsCsv: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the CSV */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            410: components["responses"]["E410"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getClaimTree: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the dump */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        format: "standard-v1";
                        leafEncoding: [
                            "string",
                            "uint256"
                        ];
                        /** @description the nodes, root first, leaves last */
                        tree: string[];
                        /** @description one per payee, in payee order */
                        values: {
                            value: [
                                string,
                                string
                            ];
                            treeIndex: number;
                        }[];
                    };
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            410: components["responses"]["E410"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getExplanation: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
                /** @description the actor id (percent-encoded); any id, listed in the inputs or not */
                actor: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the canonical (JCS) explanation, byte-identical to `rewarder explain` */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Explanation"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            410: components["responses"]["E410"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getCorrection: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description the ETag held: 304 when it matches */
                "If-None-Match"?: string;
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the correction document (ETag: its correction_commitment) */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Correction"];
                };
            };
            /** @description not modified (If-None-Match matched) */
            304: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getCorrectionAttestation: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
                /** @description the ETag held: 304 when it matches */
                "If-None-Match"?: string;
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the correction's attestation */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Attestation"];
                };
            };
            /** @description not modified (If-None-Match matched) */
            304: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description sealed bytes never change, but are served behind a token: cacheable by the client only */
                    "Cache-Control": "private, max-age=31536000, immutable";
                    /** @description the strong tag "<digest>" of the exact bytes (the CID, policy hash or commitment) */
                    ETag: string;
                    /** @description a cached copy is per token */
                    Vary: "Authorization";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getLedgerState: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path: {
                /** @description the epoch */
                epoch_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description per-part state with attempts */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LedgerState"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    listProgramEpochs: {
        parameters: {
            query?: {
                /** @description the previous page's next */
                after?: string;
                /** @description page size */
                limit?: number;
            };
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path: {
                /** @description the program (the epoch ids' prefix before the first :) */
                program: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProgramEpochs"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getKeys: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the key set */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeySet"];
                };
            };
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
        };
    };
    redriveLedgerParts: {
        parameters: {
            query?: {
                /** @description only this epoch's parts */
                epoch_id?: string;
            };
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description how many parts were re-driven */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description the tenant's token bucket rate (requests/s, burst = rate) */
                    "X-RateLimit-Limit": string;
                    /** @description tokens left in the bucket after this request */
                    "X-RateLimit-Remaining": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RedriveResult"];
                };
            };
            400: components["responses"]["E400"];
            401: components["responses"]["E401"];
            403: components["responses"]["E403"];
            404: components["responses"]["E404"];
            429: components["responses"]["E429"];
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            503: components["responses"]["E503"];
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description alive */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description ready */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
            /** @description degraded (causes) */
            503: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    /** @description seconds to wait before retrying */
                    "Retry-After": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description text exposition 0.0.4 */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
        };
    };
    getVersion: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description version */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Version"];
                };
            };
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
        };
    };
    getOpenApi: {
        parameters: {
            query?: never;
            header?: {
                /** @description correlation id, echoed in the answer and logged; generated when absent or not of this form */
                "X-Corr-ID"?: components["parameters"]["XCorrID"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.1 */
            200: {
                headers: {
                    /** @description the request's X-Corr-ID when valid (^[A-Za-z0-9._:-]{1,128}$), else a generated one */
                    "X-Corr-ID": string;
                    /** @description on every answer */
                    "X-Content-Type-Options": "nosniff";
                    /** @description answers that change with state, and errors, are not stored */
                    "Cache-Control": "no-store";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            431: components["responses"]["E431"];
            500: components["responses"]["E500"];
        };
    };
}
