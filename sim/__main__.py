from sim.cli import app

app(prog_name="sim")
