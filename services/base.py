"""What the bot needs from any provider: credentials, options, generation and description."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, Self, TypeVar

from services.exceptions import InvalidImageError, InvalidOptionError, UnexpectedResponseError
from services.images import sniff_image

Role = Literal["user", "model"]


def mask(secret: str) -> str:
    """A secret shown safely: its first and last few characters at most, never the whole."""
    if len(secret) <= 8:
        return "•" * 4
    keep = 4 if len(secret) >= 16 else 2
    return f"{secret[:keep]}…{secret[-keep:]}"


class CredentialFormatError(ValueError):
    """The parts given for a credential do not have the form the provider needs."""


class Credential(ABC):
    """A user's or the operator's credential for one provider; its repr never shows secrets."""

    provider: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    """Names of the parts, in the order `/setkey` takes them."""

    @classmethod
    @abstractmethod
    def from_parts(cls, parts: Sequence[str]) -> Self:
        """Build from the parts as typed by the user or stored; CredentialFormatError if bad."""

    @abstractmethod
    def to_parts(self) -> tuple[str, ...]:
        """The parts to store (encrypted) and rebuild with `from_parts`."""

    @abstractmethod
    def masked(self) -> str:
        """A short form safe to show the user: non-secret parts, secrets masked."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked()})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credential) and (
            type(other) is type(self) and other.to_parts() == self.to_parts()
        )

    def __hash__(self) -> int:
        return hash((type(self), self.to_parts()))


class SingleSecretCredential(Credential):
    """A credential that is one opaque secret (an API key, an app id)."""

    __slots__ = ("secret",)

    def __init__(self, secret: str) -> None:
        self.secret = secret

    @classmethod
    def from_parts(cls, parts: Sequence[str]) -> Self:
        if len(parts) != 1 or not parts[0].strip() or any(c.isspace() for c in parts[0]):
            raise CredentialFormatError(f"{cls.provider} needs exactly one {cls.fields[0]}")
        return cls(parts[0])

    def to_parts(self) -> tuple[str, ...]:
        return (self.secret,)

    def masked(self) -> str:
        return mask(self.secret)


CredentialT = TypeVar("CredentialT", bound=Credential)


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option a provider accepts, with every valid value and the one used by default."""

    name: str
    choices: tuple[str, ...]
    default: str | None = None
    """Sent when the user gives no value; None leaves the option out of the request."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a conversation about an image."""

    role: Role
    text: str


@dataclass(frozen=True, slots=True)
class Submission:
    """A generation job the provider accepted; `task_id` is what polling needs."""

    task_id: str
    credits: int | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """A generation job that is not finished yet; `status` is the provider's word for it."""

    status: str = "pending"


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """A finished generation: the image's bytes exactly as the provider made them."""

    data: bytes
    mime_type: str
    remote_id: str | None = None
    """The provider's own id of the stored image (AiLuna), for later actions on it."""
    credits: int | None = None


def generated_image(
    data: bytes,
    *,
    provider: str,
    where: str,
    remote_id: str | None = None,
    credits: int | None = None,
) -> GeneratedImage:
    """A provider's result, its type read from the header; UnexpectedResponseError if the bytes
    are not an image. Delivery decodes (and so verifies) the pixels once, later."""
    try:
        info = sniff_image(data)
    except InvalidImageError as e:
        raise UnexpectedResponseError(f"{where} is not an image", provider=provider) from e
    return GeneratedImage(data=data, mime_type=info.mime_type, remote_id=remote_id, credits=credits)


@dataclass(frozen=True, slots=True)
class Description:
    """A provider's answer about an image."""

    text: str
    credits: int | None = None
    image_resized: bool = False
    """True when the image had to be re-encoded or scaled down to meet the provider's limit."""


class _Provider(ABC, Generic[CredentialT]):
    name: ClassVar[str]
    credential_type: ClassVar[type[Credential]]


class ImageGenerator(_Provider[CredentialT]):
    """A provider that makes images from text: submit once, then poll until done."""

    options: ClassVar[tuple[OptionSpec, ...]] = ()

    @classmethod
    def validate_options(cls, options: Mapping[str, str]) -> dict[str, str]:
        """Every option checked against its valid values, defaults filled in.

        Raises InvalidOptionError, before any request, for an unknown option or value.
        """
        specs = {spec.name: spec for spec in cls.options}
        for name, value in options.items():
            spec = specs.get(name)
            if spec is None:
                raise InvalidOptionError(
                    provider=cls.name, option=name, value=value, allowed=tuple(specs)
                )
            if value not in spec.choices:
                raise InvalidOptionError(
                    provider=cls.name, option=name, value=value, allowed=spec.choices
                )
        resolved = {s.name: s.default for s in cls.options if s.default is not None}
        resolved.update(options)
        return resolved

    @abstractmethod
    async def submit(
        self, credential: CredentialT, *, prompt: str, options: Mapping[str, str]
    ) -> Submission:
        """Start a paid generation; never retried after a timeout (OutcomeUnknownError)."""

    @abstractmethod
    async def poll(self, credential: CredentialT, *, task_id: str) -> Pending | GeneratedImage:
        """One look at a submitted job: Pending, or the finished image's bytes."""


class ImageDescriber(_Provider[CredentialT]):
    """A provider that answers questions about an image."""

    @abstractmethod
    async def describe(
        self, credential: CredentialT, *, image: bytes, conversation: Sequence[Turn]
    ) -> Description:
        """Answer the conversation's last `user` turn about `image`."""
