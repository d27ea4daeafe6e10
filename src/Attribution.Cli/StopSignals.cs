using System.Runtime.InteropServices;

namespace Attribution.Cli;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP (unless nohup asked for it to be ignored: a hangup, the terminal closed) stop a recording
/// with a summary. Registered once the recorder has given up its privileges (RecordSession's <c>started</c>): the
/// runtime's signal thread is made by the first registration and inherits the set of the thread that makes it, the kept
/// one, which its handlers' code needs (the drop leaves the runtime's threads made before it with none: docs/RECORDING.md,
/// Privileges). A signal in the
/// moment before, while everything is opened, ends the recorder as it would end any process.
/// </summary>
internal sealed class StopSignals(CancellationTokenSource cancel) : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public void Register()
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop));
        if (!InheritedSignals.IsIgnored(InheritedSignals.SigHup)) _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop));
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
