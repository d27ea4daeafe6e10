using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Attribution.Tests.Support;

/// <summary>
/// A program run with a pseudo-terminal as its standard streams, as a user at a terminal runs it: util-linux's
/// `script`, whose own output (what the terminal showed) is read here as it comes. The terminal is 80 columns wide.
/// </summary>
public sealed partial class PseudoTerminal : IDisposable
{
    private readonly Process _script;
    private readonly StringBuilder _shown = new();
    private readonly Task _reading;

    private PseudoTerminal(Process script)
    {
        _script = script;
        _reading = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = script.StandardOutput.Read(buffer)) > 0)
                lock (_shown) _shown.Append(buffer, 0, n);
        });
    }

    /// <summary>Starts <paramref name="program"/> with <paramref name="args"/> (words without quotes) on a terminal of TERM=xterm.</summary>
    public static PseudoTerminal Start(string program, params string[] args)
    {
        var line = string.Join(' ', new[] { program }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var info = new ProcessStartInfo(RequiredProgram.OnPath("script", "util-linux"))
        {
            RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { "-qfec", line, "/dev/null" }) info.ArgumentList.Add(a);
        info.Environment["TERM"] = "xterm";
        return new PseudoTerminal(Process.Start(info)!);
    }

    /// <summary>What the terminal was sent so far, its control sequences (colours, cursor moves) taken out.</summary>
    public string Text
    {
        get
        {
            string raw;
            lock (_shown) raw = _shown.ToString();
            return ControlSequence().Replace(raw, "").Replace("\r", "");
        }
    }

    /// <summary>Waits (at most <paramref name="limit"/>) until the terminal shows <paramref name="text"/>; false if it never did.</summary>
    public bool WaitFor(string text, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!Text.Contains(text, StringComparison.Ordinal))
        {
            if (clock.Elapsed > limit || _reading.IsCompleted) return Text.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(50); // polling the output for a state, not waiting for time to pass
        }
        return true;
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until the terminal shows a match of <paramref name="pattern"/> that
    /// <paramref name="accept"/> accepts; false if it never did.
    /// </summary>
    public bool WaitFor(Regex pattern, Func<Match, bool> accept, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!pattern.Matches(Text).Any(accept))
        {
            if (clock.Elapsed > limit || _reading.IsCompleted) return pattern.Matches(Text).Any(accept);
            Thread.Sleep(100); // polling the output for a state, not waiting for time to pass
        }
        return true;
    }

    /// <summary>Types Ctrl-C, which the terminal turns into SIGINT for the program, as a user stops it.</summary>
    public void TypeCtrlC()
    {
        _script.StandardInput.Write('\x03');
        _script.StandardInput.Flush();
    }

    /// <summary>Waits for the program (and `script`) to end; kills both if they outlive <paramref name="limit"/>.</summary>
    public bool WaitForExit(TimeSpan limit)
    {
        bool ended = _script.WaitForExit(limit);
        if (!ended) Dispose();
        _reading.Wait(TimeSpan.FromSeconds(5));
        return ended;
    }

    public void Dispose()
    {
        try
        {
            if (!_script.HasExited) _script.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // already reaped
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")]
    private static partial Regex ControlSequence();
}
