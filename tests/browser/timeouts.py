"""Every wait in the browser tier, in one place (milliseconds unless named _S)."""

RENDER = 20_000  # a chart drawn after a spec arrived
ROUND_TRIP = 20_000  # a control change answered by the kernel
SERVER_START_S = 60  # Voila / JupyterLab answering HTTP
PAGE_LOAD = 90_000  # Voila executes the notebook (imports torch) before the page is complete
KERNEL_IDLE_S = 60
