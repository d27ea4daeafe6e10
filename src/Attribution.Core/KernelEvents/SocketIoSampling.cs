namespace Attribution.Core.KernelEvents;

/// <summary>
/// How the recorder samples socket I/O: one send or receive per socket and process (or per process and UDP
/// tuple) per window, plus the first after a socket's birth. A process moving a socket's data continuously leaves
/// at least one sample per window, which is what the analyzer relies on to tell two processes writing at once.
/// </summary>
public static class SocketIoSampling
{
    public const long WindowNs = 1_000_000_000;
}
