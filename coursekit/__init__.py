"""The course's plumbing, kept out of ``helpers`` so that package stays what learners call.

settings        the environment variables every part reads (addresses, learner, small mode)
network         is a port answering; ``host:port`` parsing
autostart       start the sandbox in the background when a notebook finds no server
server_control  restart the server a notebook talks to (``helpers.restart_server``)
notebook_errors one-paragraph hints instead of traceback walls in a kernel
scripts         how command-line scripts that used the SDK end
lab             ``make lab``: a server, then JupyterLab
doctor          ``make doctor`` and ``helpers.doctor()``: each check of the setup with its fix
docker_check    the doctor's Docker checks: the known pitfalls of Iggy 0.9.0 in a container
reset           ``make reset``: delete the course's streams
"""
