from eventwire.cli.main import cli

cli()
