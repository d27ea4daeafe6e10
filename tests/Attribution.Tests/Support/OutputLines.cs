namespace Attribution.Tests.Support;

/// <summary>
/// The lines a process writes to one of its streams (a server's log on stderr), read as they come on a thread of
/// their own so the process never blocks on a full pipe, and waited for without sleeping.
/// </summary>
public sealed class OutputLines
{
    private readonly List<string> _lines = [];
    private readonly Task _reading;
    private bool _ended;

    public OutputLines(StreamReader stream)
    {
        _reading = Task.Factory.StartNew(() =>
        {
            while (stream.ReadLine() is { } line)
                lock (_lines)
                {
                    _lines.Add(line);
                    Monitor.PulseAll(_lines);
                }
            lock (_lines)
            {
                _ended = true;
                Monitor.PulseAll(_lines);
            }
        }, TaskCreationOptions.LongRunning);
    }

    public IReadOnlyList<string> Lines { get { lock (_lines) return _lines.ToList(); } }

    /// <summary>Waits until <paramref name="count"/> lines match (true), the stream ends or the time is up (false).</summary>
    public bool WaitFor(Func<string, bool> match, TimeSpan timeout, int count = 1)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_lines)
            while (true)
            {
                if (_lines.Count(match) >= count) return true;
                var left = deadline - DateTime.UtcNow;
                if (_ended || left <= TimeSpan.Zero) return false;
                Monitor.Wait(_lines, left);
            }
    }

    /// <summary>Waits (bounded) for the stream to end, once its process has exited: every line is then in <see cref="Lines"/>.</summary>
    public void Drain(TimeSpan timeout) => _reading.Wait(timeout);
}
