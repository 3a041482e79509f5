from huey.contrib.djhuey import db_task

from patron.whatif import jobs


@db_task()
def run_simulation(simulation_id: int) -> None:
    jobs.run(simulation_id)
