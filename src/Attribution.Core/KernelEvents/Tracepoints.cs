namespace Attribution.Core.KernelEvents;

/// <summary>
/// The tracepoints the recorder samples and the analyzer decodes: their names as tracefs spells them
/// ("system:event") and the fields read from them, named as in their format files. Only names live here, never
/// offsets or sizes: those are read from each kernel's format file (<see cref="TracepointFormat"/>).
/// </summary>
public static class Tracepoints
{
    /// <summary>The fields every tracepoint record begins with (struct trace_entry).</summary>
    public static class Common
    {
        /// <summary>Every common field's name starts so; they describe the record, not the event.</summary>
        public const string Prefix = "common_";
        /// <summary>The context the sample ran in (<see cref="TraceContextFlags"/>).</summary>
        public const string Flags = "common_flags";
        /// <summary>The task the sample was taken in (a thread's id).</summary>
        public const string Pid = "common_pid";
    }

    /// <summary>sock:inet_sock_set_state: a TCP socket changed state (include/trace/events/sock.h).</summary>
    public static class InetSockSetState
    {
        public const string Name = "sock:inet_sock_set_state";
        public const string Socket = "skaddr", OldState = "oldstate", NewState = "newstate";
        public const string SourcePort = "sport", DestinationPort = "dport", Family = "family", Protocol = "protocol";
        public const string Source = "saddr", Destination = "daddr", SourceV6 = "saddr_v6", DestinationV6 = "daddr_v6";
    }

    /// <summary>sock:sock_send_length and sock:sock_recv_length (Linux 6.3+): a process's socket call and what it moved.</summary>
    public static class SockLength
    {
        public const string SendName = "sock:sock_send_length", ReceiveName = "sock:sock_recv_length";
        public const string Socket = "sk", Protocol = "protocol";
        /// <summary>The call's result: bytes moved, or a negative error.</summary>
        public const string Ret = "ret";
        /// <summary>The call's msg flags: MSG_PEEK (2) on a receive that left the bytes in the socket.</summary>
        public const string Flags = "flags";
    }

    /// <summary>fib:fib_table_lookup and fib6:fib6_table_lookup: a route lookup with the flow's full tuple.</summary>
    public static class FibLookup
    {
        public const string V4Name = "fib:fib_table_lookup", V6Name = "fib6:fib6_table_lookup";
        public const string Protocol = "proto", Source = "src", Destination = "dst", SourcePort = "sport", DestinationPort = "dport";
        /// <summary>Non-zero when no route was found (nothing was sent).</summary>
        public const string Error = "err";
    }

    /// <summary>sched:sched_process_fork and sched:sched_process_exec: a new process, or a process's new program.</summary>
    public static class SchedProcess
    {
        public const string ForkName = "sched:sched_process_fork", ExecName = "sched:sched_process_exec";
        /// <summary>sched_process_exec's path given to execve (a __data_loc string), in the process's own mount namespace.</summary>
        public const string Filename = "filename";
    }

    /// <summary>
    /// task:task_rename: a task's comm changed (include/trace/events/task.h): prctl(PR_SET_NAME), a write to
    /// /proc/PID/comm or /proc/PID/task/TID/comm, and every exec (which names the task after its new file).
    /// </summary>
    public static class TaskRename
    {
        public const string Name = "task:task_rename";
        /// <summary>The renamed task's id: a thread's, or the process's when it is the thread-group leader.</summary>
        public const string Pid = "pid";
        public const string OldComm = "oldcomm", NewComm = "newcomm";
    }
}
