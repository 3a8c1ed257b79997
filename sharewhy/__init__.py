"""sharewhy: the command-line tool, configuration and embedded warehouse that tie the pipeline together."""
