# One answer to the exercise of 06_throughput_lab.ipynb: paste it into the exercise cell.
my_run = await measure(batch_size=50, payload_bytes=500, total=TOTAL)
