namespace Attribution.Recorder.KernelEvents;

/// <summary>
/// The send/receive samples of one drain, held until every ring is drained and then handed on in time order. Each
/// CPU's ring is in time order, but the rings are drained one after another: a process that moves to another CPU,
/// or two processes sharing a socket on two CPUs, would otherwise have their calls counted out of order, and a
/// stream's ends (StreamOffsets) and its changes of process must follow the calls as they happened. Reused buffers:
/// allocation-free once grown to a drain's size.
/// </summary>
internal sealed class TimeOrderedSamples
{
    public readonly record struct Sample(long Ns, int Cpu, int Pid, int Tid, int RawStart, int RawLength, int Order);

    private Sample[] _samples = new Sample[256];
    private byte[] _raw = new byte[16 * 1024];
    private int _count, _rawUsed;

    public int Count => _count;

    public void Add(long ns, int cpu, int pid, int tid, ReadOnlySpan<byte> raw)
    {
        if (_count == _samples.Length) Array.Resize(ref _samples, _count * 2);
        if (_rawUsed + raw.Length > _raw.Length) Array.Resize(ref _raw, Math.Max(_raw.Length * 2, _rawUsed + raw.Length));
        raw.CopyTo(_raw.AsSpan(_rawUsed));
        _samples[_count] = new Sample(ns, cpu, pid, tid, _rawUsed, raw.Length, _count);
        _count++;
        _rawUsed += raw.Length;
    }

    /// <summary>Sorts what was added by time (ties in the order added) and hands each to <paramref name="handler"/>; then empties.</summary>
    public void Flush<THandler>(THandler handler) where THandler : ISampleHandler
    {
        var samples = _samples.AsSpan(0, _count);
        samples.Sort(default(ByTime));
        foreach (ref readonly var s in samples)
            handler.Handle(s, _raw.AsSpan(s.RawStart, s.RawLength));
        _count = 0;
        _rawUsed = 0;
    }

    private readonly struct ByTime : IComparer<Sample>
    {
        public int Compare(Sample a, Sample b) => a.Ns != b.Ns ? a.Ns.CompareTo(b.Ns) : a.Order.CompareTo(b.Order);
    }

    public interface ISampleHandler
    {
        void Handle(in Sample sample, ReadOnlySpan<byte> raw);
    }
}
