# One answer to the exercise of 11_capstone_order_pipeline.ipynb: paste it into the
# exercise cell.
async def work_once(worker: Worker) -> int:
    """Poll a batch and process every order in it. Returns the batch's size."""
    messages = await worker.poll(auto_commit=False)
    for message in messages:
        await worker.process(message)
    if messages:
        await worker.commit(messages[-1])  # only now: the whole batch is done
    return len(messages)
