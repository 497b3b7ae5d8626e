"""``chatter ask`` and ``chatter chat``: one question answered, or a conversation with the
analyst."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from chatter.cli.application import (
    DatabaseOpt,
    JsonOpt,
    ModelOpt,
    NoCacheOpt,
    UserOpt,
    caller_context,
    escape_markup,
    guarded,
    open_services,
    stderr_console,
)


def ask(
    question: Annotated[str, typer.Argument(help="A question about your data, in words.")],
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Route a question to a workflow or a single query, and answer it."""

    def action() -> None:
        from chatter.analyst.session import ask_once
        from chatter.terminal import print_answer, progress_display

        ctx = caller_context(user, database, semantic_model, no_cache)
        with open_services() as services, progress_display(enabled=not as_json) as on_progress:
            reply = ask_once(services, question, ctx, on_progress)
        if as_json:
            sys.stdout.write(reply.model_dump_json() + "\n")
        if reply.error:  # the guard refused: the reason on stderr, exit 2 (bad input)
            stderr_console().print(
                f"[bold red]Error:[/] {escape_markup(reply.text)}", soft_wrap=True
            )
            raise typer.Exit(2)
        if not as_json:
            print_answer(reply)
        if reply.status == "failed":
            raise typer.Exit(1)

    guarded(as_json, action)


def chat(
    session: Annotated[
        str | None,
        typer.Option("--session", help="Continue a conversation by its id (default: a new one)."),
    ] = None,
    database: DatabaseOpt = None,
    semantic_model: ModelOpt = None,
    user: UserOpt = "local",
    no_cache: NoCacheOpt = False,
) -> None:
    """Talk to the analyst: follow-ups such as "now by industry" or "top 5" build on the last
    answer. Type "exit" (or press Ctrl-D) to leave."""

    def action() -> None:
        with open_services() as services:
            converse(services)

    def converse(services: Any) -> None:
        from chatter.analyst.session import ChatSession
        from chatter.terminal import print_answer

        ctx = caller_context(user, database, semantic_model, no_cache)
        conversation = ChatSession.open(services, ctx, session)
        console = stderr_console()
        console.print(f"Session {conversation.session_id} (exit to leave)")
        while True:
            try:
                line = input("you> ")
            except EOFError:
                break
            if line.strip().lower() in ("exit", "quit", ":q"):
                break
            if not line.strip():
                continue
            reply = conversation.say(line)
            print_answer(reply)
            if reply.clarification:
                if reply.options:
                    typer.echo(
                        "(answer with one of: " + ", ".join(reply.options) + ", or rephrase)"
                    )
                else:
                    typer.echo("(rephrase, or ask something else)")

    guarded(False, action)
