"""``strata generate-event SERVICE EVENT [--field value ...]``: a sample event a service sends a function, on stdout,
ready for ``strata invoke FN --event -`` (as ``sam local generate-event``). Without EVENT it lists the service's events
and their fields; without SERVICE, the services. The shapes live in ``strata.events.catalog`` (not to be confused
with ``strata events``, a stack's deploy events)."""
from __future__ import annotations

import json

import click

from strata.cli.options import output_option


@click.command(name="generate-event", context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
               short_help="Print a sample event (SQS, SNS, S3, API Gateway, ...) to invoke a function with.")
@click.argument("service", required=False)
@click.argument("event", required=False)
@click.argument("fields", nargs=-1, type=click.UNPROCESSED)
@output_option
def generate_event(service: str | None, event: str | None, fields: tuple[str, ...], output: str) -> None:
    """Print the EVENT that SERVICE sends a function, with --field value for any of its fields (the rest take
    defaults; ids and timestamps are fresh). `strata generate-event` lists the services, `strata generate-event
    SERVICE` its events and their fields. Pipe it into `strata invoke FUNCTION --event -`."""
    from strata.events.catalog import SERVICE_HELP, SERVICES, UnknownEvent, generate, lookup

    try:
        if service is None:
            _list_services(SERVICES, SERVICE_HELP, output)
            return
        if event is None:
            if fields:
                raise click.UsageError(f"fields ({fields[0]} ...) need an EVENT: strata generate-event {service} "
                                       f"EVENT --field value")
            if service not in SERVICES:
                lookup(service)                 # names the valid services
            _list_events(service, SERVICES[service], output)
            return
        values = _field_values(fields)
        click.echo(json.dumps(generate(service, event, values), indent=2))
    except UnknownEvent as exc:
        raise click.UsageError(str(exc)) from None


def _field_values(args: tuple[str, ...]) -> dict[str, str]:
    """``--name value`` / ``--name=value`` pairs; anything else is a usage error."""
    values: dict[str, str] = {}
    rest = list(args)
    while rest:
        token = rest.pop(0)
        if not token.startswith("--") or token == "--":
            raise click.UsageError(f"unexpected argument {token!r}: fields are given as --name value")
        name, eq, value = token[2:].partition("=")
        if not eq:
            if not rest:
                raise click.UsageError(f"--{name} needs a value")
            value = rest.pop(0)
        values[name] = value
    return values


def _list_services(services: dict, help_text: dict[str, str], output: str) -> None:
    if output == "json":
        click.echo(json.dumps({name: {"Help": help_text.get(name, ""), "Events": sorted(events)}
                               for name, events in sorted(services.items())}, indent=2))
        return
    width = max(len(name) for name in services)
    click.echo("Services (strata generate-event SERVICE lists its events):")
    for name in sorted(services):
        click.echo(f"  {name:<{width}}  {help_text.get(name, '')}: {', '.join(sorted(services[name]))}")


def _list_events(service: str, events: dict, output: str) -> None:
    if output == "json":
        click.echo(json.dumps([{"Event": spec.name, "Help": spec.help,
                                "Fields": [{"Name": f.name, "Default": f.default or None, "Help": f.help,
                                            **({"Derived": f.derived} if f.derived else {})} for f in spec.fields]}
                               for spec in (events[name] for name in sorted(events))], indent=2))
        return
    for name in sorted(events):
        spec = events[name]
        click.echo(f"{service} {name}: {spec.help}")
        width = max(len(f.name) for f in spec.fields) + 2
        for f in spec.fields:
            default = f.default if f.default else f"({f.derived})"
            click.echo(f"    --{f.name:<{width}} {f.help}; default: {default}")
