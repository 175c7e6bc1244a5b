"""Rate limits in Redis, counted per GraphQL operation, shared by every API process.

Each limit is a GCRA bucket ("generic cell rate algorithm", the one behind redis-cell and
most API gateways): `limit` operations may come at once, then one every `period / limit`
seconds. One Lua call a check, on Redis's own clock, so API processes on several machines
agree. What is counted, and where:

- `operations`: every query and mutation of a signed-in user (per user), or of a client
  without a token (per IP address), but for those made only of logIn and signUp fields.
  Subscriptions are bounded by the websocket caps instead.
- `auth_ip` and `auth_email`: every logIn and signUp, per client IP and per e-mail address
  (brute force and account enumeration), whatever the operation looks like (aliases count).
- `insights`: every requestInsight per user (each costs GPU time).
- `exports`: every export of an account (GET /export and exportMyData) per user: each
  reads every row of the account.

Exceeding answers RATE_LIMITED with extensions.retryAfter (seconds, rounded up). When Redis
cannot be asked, ENGLOG_RATE_LIMIT_FAIL ("open", the default: the operation goes through,
and a warning is logged; or "closed": SERVICE_UNAVAILABLE) decides.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphql import DocumentNode, ExecutionResult, FieldNode, GraphQLError, get_operation_ast
from redis.asyncio import Redis
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.errors import RATE_LIMITED, AppError, ServiceUnavailable, Unauthenticated
from graph.redis_faults import REDIS_FAULTS

if TYPE_CHECKING:
    from graph.context import Context
    from graph.settings import ApiSettings

logger = logging.getLogger("englog.limits")

PREFIX = "englog:rate:"

# KEYS[1]: the bucket; ARGV: emission interval (µs), burst tolerance (µs).
# Returns 0 when allowed, else the µs to wait. The bucket holds the "theoretical arrival
# time" of the next operation, and expires when it would be full again.
_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local allowed_at = next_tat - tolerance
if now < allowed_at then
  return allowed_at - now
end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return 0
"""

_RULE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Rule:
    """At most `limit` operations per `period` seconds (a burst of `limit`, then evenly)."""

    limit: int
    period: int

    @classmethod
    def parse(cls, text: str) -> Rule:
        """`"300/60"`: 300 operations a minute. ValueError when it is not that shape."""
        match = _RULE.match(text)
        if match is None or int(match.group(1)) < 1 or int(match.group(2)) < 1:
            raise ValueError(f"a rate limit is 'COUNT/SECONDS' (both ≥ 1), not {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))


class RateLimited(AppError):
    code = RATE_LIMITED

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"Too many requests; retry in {seconds} s", retryAfter=seconds)
        self.retry_after = seconds


class RateLimiter:
    def __init__(
        self,
        redis: Redis,
        *,
        enabled: bool,
        fail_open: bool,
        operations: Rule,
        auth_ip: Rule,
        auth_email: Rule,
        insights: Rule,
        exports: Rule = Rule(10, 3600),
    ) -> None:
        self.redis = redis
        self.enabled = enabled
        self.fail_open = fail_open
        self.operations = operations
        self.auth_ip = auth_ip
        self.auth_email = auth_email
        self.insights = insights
        self.exports = exports
        self._script = redis.register_script(_GCRA)

    @classmethod
    def from_settings(cls, redis: Redis, settings: ApiSettings) -> RateLimiter:
        return cls(
            redis,
            enabled=settings.rate_limits,
            fail_open=settings.rate_limit_fail == "open",
            operations=Rule.parse(settings.rate_limit_operations),
            auth_ip=Rule.parse(settings.rate_limit_auth_ip),
            auth_email=Rule.parse(settings.rate_limit_auth_email),
            insights=Rule.parse(settings.rate_limit_insights),
            exports=Rule.parse(settings.rate_limit_exports),
        )

    async def hit(self, bucket: str, rule: Rule, context: object = None) -> None:
        """Counts one operation against `bucket`; RateLimited when it is over `rule`."""
        try:
            await self._hit(bucket, rule)
        except AppError as exc:
            refuse(context, exc)
            raise

    async def _hit(self, bucket: str, rule: Rule) -> None:
        if not self.enabled:
            return
        interval = rule.period * 1_000_000 // rule.limit
        try:
            wait = int(
                await self._script(keys=[PREFIX + bucket], args=[interval, rule.period * 1_000_000])
            )
        except REDIS_FAULTS as exc:
            if self.fail_open:
                logger.warning(
                    "rate limit %s not checked (Redis: %s); letting it through", bucket, exc
                )
                return
            raise ServiceUnavailable(
                "Rate limits cannot be checked right now; try again shortly", retryAfter=1
            ) from None
        if wait > 0:
            raise RateLimited(wait / 1_000_000)

    async def sign_in(self, context: Context, email: str) -> None:
        """logIn and signUp: per client address and per e-mail address."""
        await self.hit(f"auth:ip:{client_address(context)}", self.auth_ip, context)
        await self.hit(f"auth:email:{email.strip().lower()[:320]}", self.auth_email, context)

    async def password_check(self, context: Context, user_id: uuid.UUID) -> None:
        """changePassword and deleteAccount check a password: as many tries as logIn's."""
        await self.hit(f"auth:user:{user_id}", self.auth_email, context)

    async def insight(self, context: Context, user_id: uuid.UUID) -> None:
        await self.hit(f"insight:{user_id}", self.insights, context)

    async def export(self, user_id: uuid.UUID, context: object = None) -> None:
        """An export of the account, whichever way it is asked for (graph/export.py)."""
        await self.hit(f"export:{user_id}", self.exports, context)

    async def operation(self, context: Context) -> None:
        try:
            who = f"user:{context.user_id()}"
        except Unauthenticated:
            who = f"ip:{client_address(context)}"  # a bad token counts like no token
        await self.hit(f"op:{who}", self.operations, context)


def client_address(context: Context) -> str:
    client = context.request.client
    return client.host if client is not None else "unknown"


class OperationRateLimit(SchemaExtension):
    """Counts each query and mutation before it runs (after parsing and validation)."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        limiter: RateLimiter | None = getattr(getattr(context, "state", None), "limiter", None)
        if (
            limiter is not None
            and execution.operation_type != OperationType.SUBSCRIPTION
            and not _only_sign_in(execution.graphql_document, execution.operation_name)
        ):
            try:
                await limiter.operation(context)
            except AppError as exc:
                error = GraphQLError(str(exc), original_error=exc, extensions=exc.extensions)
                execution.result = ExecutionResult(data=None, errors=[error])
        yield


SIGN_IN_FIELDS = frozenset({"logIn", "signUp"})  # counted by `sign_in`, per address and e-mail


def _only_sign_in(document: DocumentNode | None, operation_name: str | None) -> bool:
    """Whether every root field of the operation is logIn or signUp."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return False
    selections = operation.selection_set.selections
    return all(
        isinstance(selection, FieldNode) and selection.name.value in SIGN_IN_FIELDS
        for selection in selections
    )


def refuse(context: object, exc: AppError) -> None:
    """Sets Retry-After on an HTTP answer refused for its rate."""
    retry_after = exc.extensions.get("retryAfter")
    response = getattr(context, "response", None)
    if retry_after is not None and response is not None:
        response.headers["Retry-After"] = str(retry_after)
