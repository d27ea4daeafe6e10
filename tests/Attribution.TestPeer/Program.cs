using System.Net;
using System.Net.Sockets;

// A process with known sockets for the integration tests. Every mode prints "ready" once its sockets
// exist, then keeps them open until standard input closes, so a test decides when they go away
// without sleeping. Traffic only goes where the test says: loopback or its own namespaces.
//
//   tcp-server ADDR PORT            accept connections, echo what arrives
//   tcp-client ADDR PORT BYTES      connect, send BYTES, read them back
//   udp-server ADDR PORT            receive datagrams and answer each
//   udp-send ADDR PORT COUNT        unconnected socket, COUNT datagrams of 100 bytes, read the answers
//   udp-spray ADDR P1,P2,.. COUNT   one unconnected socket, COUNT datagrams of 200 bytes to each port
//   tcp-burst ADDR PORT COUNT BYTES HOLDMS  COUNT short connections one after another, each echoing
//                                   BYTES and closing HOLDMS after
//   tcp-listen-many ADDR PORT COUNT COUNT listening sockets on PORT, PORT+1, ...
//   tcp-tagged ADDR PORT [reuseport] [sink]  accept connections (SO_REUSEPORT if asked), echo what
//                                   arrives (or discard it: sink); prints "conn CLIENTPORT" for each
//                                   connection and "tag CLIENTPORT pid N" when it begins "pid N\n"
//   udp-tagged ADDR PORT            answer each datagram with itself; prints "tag CLIENTPORT pid N"
//                                   for a datagram beginning "pid N\n"
//   http-server ADDR PORT BYTES     HTTP/1.0: answers every request with BYTES of body, then closes;
//                                   prints "tag CLIENTPORT PATH"
//   dns-server ADDR PORT            answers every query: A with 192.0.2.1, other types with no
//                                   answer (NOERROR, NODATA); prints "tag CLIENTPORT QNAME"
//   dns-zone ADDR PORT ZONE         answers from ZONE, "name=ADDRESS/TTL,alias=>target/TTL,...": an A query for a
//                                   name gets its address (after the CNAMEs to it), other types and other names no
//                                   answer (NOERROR, NODATA); prints "tag CLIENTPORT QNAME"
//   tcp-stream ADDR PORT            connect, then send 64 KB every 5 ms until standard input closes

var mode = args[0];
var address = IPAddress.Parse(args[1]);
int port = int.Parse(args[2].Split(',')[0]);
var endpoint = new IPEndPoint(address, port);
var family = address.AddressFamily;
var timeout = TimeSpan.FromSeconds(20);

switch (mode)
{
    case "tcp-server":
    {
        var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (address.Equals(IPAddress.IPv6Any)) listener.DualMode = true; // "::" takes IPv4 too, as ::ffff:a.b.c.d
        listener.Bind(endpoint);
        listener.Listen(64);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptAsync();
                _ = Task.Run(async () =>
                {
                    var buffer = new byte[65536];
                    int n;
                    while ((n = await client.ReceiveAsync(buffer)) > 0) await client.SendAsync(buffer.AsMemory(0, n));
                });
            }
        });
        Ready();
        break;
    }
    case "tcp-client":
    {
        int bytes = int.Parse(args[3]);
        var client = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        if (address.IsIPv4MappedToIPv6) client.DualMode = true; // an IPv6 socket talking to ::ffff:a.b.c.d
        client.Connect(endpoint);
        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        var back = new byte[bytes];
        var send = Task.Run(() => client.Send(data));
        int got = 0;
        using var cts = new CancellationTokenSource(timeout);
        while (got < bytes) got += client.ReceiveAsync(back.AsMemory(got), cts.Token).AsTask().GetAwaiter().GetResult();
        send.Wait();
        Ready();
        break;
    }
    case "udp-server":
    {
        var server = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        if (address.Equals(IPAddress.IPv6Any)) server.DualMode = true;
        server.Bind(endpoint);
        _ = Task.Run(() =>
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            while (true)
            {
                int n = server.ReceiveFrom(buffer, ref from);
                server.SendTo(buffer.AsSpan(0, n), from);
            }
        });
        Ready();
        break;
    }
    case "udp-send":
    {
        int count = int.Parse(args[3]);
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var buffer = new byte[2048];
        for (int i = 0; i < count; i++)
        {
            socket.SendTo(new byte[100], endpoint);
            socket.Receive(buffer);
        }
        Ready();
        break;
    }
    case "udp-spray":
    {
        int count = int.Parse(args[3]);
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var buffer = new byte[2048];
        foreach (var target in args[2].Split(',').Select(int.Parse))
            for (int i = 0; i < count; i++)
            {
                socket.SendTo(new byte[200], new IPEndPoint(address, target));
                socket.Receive(buffer);
            }
        Ready();
        break;
    }
    case "tcp-burst":
    {
        int count = int.Parse(args[3]), bytes = int.Parse(args[4]), holdMs = int.Parse(args[5]);
        var data = new byte[bytes];
        var back = new byte[bytes];
        for (int i = 0; i < count; i++)
        {
            using var client = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(endpoint);
            client.Send(data);
            int got = 0;
            while (got < bytes) got += client.Receive(back, got, bytes - got, SocketFlags.None);
            Thread.Sleep(holdMs); // the connection's lifetime, as a short-lived client would have it
            client.Shutdown(SocketShutdown.Both);
        }
        Ready();
        break;
    }
    case "tcp-listen-many":
    {
        int count = int.Parse(args[3]);
        var listeners = new List<Socket>();
        for (int i = 0; i < count; i++)
        {
            var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(address, port + i));
            s.Listen(1);
            listeners.Add(s);
        }
        Ready();
        Console.In.ReadToEnd();
        listeners.ForEach(s => s.Dispose());
        return 0;
    }
    case "tcp-tagged":
    {
        bool reusePort = args.Contains("reuseport"), sink = args.Contains("sink");
        var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (reusePort) listener.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
        listener.Bind(endpoint);
        listener.Listen(128);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptAsync();
                int peerPort = ((IPEndPoint)client.RemoteEndPoint!).Port;
                Say($"conn {peerPort}");
                _ = Task.Run(async () =>
                {
                    var buffer = new byte[65536];
                    var head = new List<byte>();
                    bool looked = false;
                    try
                    {
                        int n;
                        while ((n = await client.ReceiveAsync(buffer)) > 0)
                        {
                            if (!looked)
                            {
                                head.AddRange(buffer.AsSpan(0, Math.Min(n, 64)).ToArray());
                                var tag = Tag(head.ToArray(), head.Count);
                                looked = tag is not null || head.Count >= 64;
                                if (tag is not null) Say($"tag {peerPort} {tag}");
                            }
                            if (!sink) await client.SendAsync(buffer.AsMemory(0, n));
                        }
                    }
                    catch (SocketException) { }
                    client.Dispose();
                });
            }
        });
        Ready();
        break;
    }
    case "udp-tagged":
    {
        var server = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(endpoint);
        _ = Task.Run(() =>
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            while (true)
            {
                int n = server.ReceiveFrom(buffer, ref from);
                if (Tag(buffer, n) is { } tag) Say($"tag {((IPEndPoint)from).Port} {tag}");
                server.SendTo(buffer.AsSpan(0, n), from);
            }
        });
        Ready();
        break;
    }
    case "http-server":
    {
        int bytes = int.Parse(args[3]);
        var body = new byte[bytes];
        Array.Fill(body, (byte)'a');
        var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endpoint);
        listener.Listen(64);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptAsync();
                _ = Task.Run(async () =>
                {
                    try
                    {
                        var request = new List<byte>();
                        var buffer = new byte[4096];
                        int n;
                        while (request.Count < 16384 && (n = await client.ReceiveAsync(buffer)) > 0)
                        {
                            request.AddRange(buffer.AsSpan(0, n).ToArray());
                            if (System.Text.Encoding.ASCII.GetString(request.ToArray()).Contains("\r\n\r\n")) break;
                        }
                        var first = System.Text.Encoding.ASCII.GetString(request.ToArray()).Split("\r\n")[0].Split(' ');
                        Say($"tag {((IPEndPoint)client.RemoteEndPoint!).Port} {(first.Length > 1 ? first[1] : "-")}");
                        await client.SendAsync(System.Text.Encoding.ASCII.GetBytes(
                            $"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"));
                        await client.SendAsync(body);
                        client.Shutdown(SocketShutdown.Send);
                        using var cts = new CancellationTokenSource(timeout);
                        while (await client.ReceiveAsync(buffer, cts.Token) > 0) { }
                    }
                    catch (Exception e) when (e is SocketException or OperationCanceledException) { }
                    client.Dispose();
                });
            }
        });
        Ready();
        break;
    }
    case "dns-server":
    {
        var server = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(endpoint);
        _ = Task.Run(() =>
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            while (true)
            {
                int n = server.ReceiveFrom(buffer, ref from);
                if (Dns(buffer, n) is not ({ } answer, { } name)) continue;
                Say($"tag {((IPEndPoint)from).Port} {name}");
                server.SendTo(answer, from);
            }
        });
        Ready();
        break;
    }
    case "dns-zone":
    {
        var zone = Zone(args[3]);
        var server = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(endpoint);
        _ = Task.Run(() =>
        {
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            while (true)
            {
                int n = server.ReceiveFrom(buffer, ref from);
                if (ZoneAnswer(buffer, n, zone) is not ({ } answer, { } name)) continue;
                Say($"tag {((IPEndPoint)from).Port} {name}");
                server.SendTo(answer, from);
            }
        });
        Ready();
        break;
    }
    case "tcp-stream":
    {
        var client = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(endpoint);
        using var stop = new CancellationTokenSource();
        var chunk = new byte[65536];
        var sending = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await client.SendAsync(chunk, stop.Token);
                    await Task.Delay(5, stop.Token);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException) { }
        });
        Ready();
        Console.In.ReadToEnd();
        stop.Cancel();
        sending.Wait(timeout);
        client.Dispose();
        return 0;
    }
    default:
        Console.Error.WriteLine($"unknown mode {mode}");
        return 2;
}

// Hold every socket until the test closes our stdin (none is disposed: the process exit closes them).
Console.In.ReadToEnd();
return 0;

static void Ready() => Say($"ready {Environment.ProcessId}");

static void Say(string line)
{
    lock (typeof(Console)) { Console.WriteLine(line); Console.Out.Flush(); }
}

// "pid N" when the bytes begin with that line, as the tests' short-lived clients send first.
static string? Tag(byte[] bytes, int count)
{
    var text = System.Text.Encoding.ASCII.GetString(bytes, 0, Math.Min(count, 64));
    int end = text.IndexOf('\n');
    return text.StartsWith("pid ") && end > 4 ? text[..end] : null;
}

// A minimal answer to one DNS query (RFC 1035): the question back, and for type A one answer 192.0.2.1.
static (byte[] Answer, string Name)? Dns(byte[] query, int length)
{
    if (length < 17 || (query[2] & 0x80) != 0) return null;
    int at = 12;
    var labels = new List<string>();
    while (at < length && query[at] != 0)
    {
        int label = query[at];
        if (label > 63 || at + 1 + label > length) return null;
        labels.Add(System.Text.Encoding.ASCII.GetString(query, at + 1, label));
        at += 1 + label;
    }
    if (at + 5 > length) return null;
    int questionEnd = at + 5;
    int qtype = query[at + 1] << 8 | query[at + 2];
    var answer = new List<byte>();
    answer.AddRange(query.AsSpan(0, 2).ToArray());                     // id
    answer.Add((byte)(0x80 | (query[2] & 0x01))); answer.Add(0x80);    // response, RD copied, RA, NOERROR
    answer.AddRange(new byte[] { 0, 1, 0, (byte)(qtype == 1 ? 1 : 0), 0, 0, 0, 0 });
    answer.AddRange(query.AsSpan(12, questionEnd - 12).ToArray());
    if (qtype == 1) answer.AddRange(new byte[] { 0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 });
    return (answer.ToArray(), string.Join('.', labels));
}

// "name=ADDRESS/TTL" (an A record) or "alias=>target/TTL" (a CNAME), comma-separated.
static Dictionary<string, (string Value, uint Ttl, bool Alias)> Zone(string text) =>
    text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('=', 2)).ToDictionary(
        e => e[0].ToLowerInvariant(),
        e => (e[1].TrimStart('>').Split('/')[0], uint.Parse(e[1].Split('/')[1]), e[1].StartsWith('>')));

// An answer from the zone (RFC 1035 §4.1): the question back, then for an A query the CNAMEs from the name and
// the A record they lead to, each owner written out in full.
static (byte[] Answer, string Name)? ZoneAnswer(byte[] query, int length, Dictionary<string, (string Value, uint Ttl, bool Alias)> zone)
{
    if (length < 17 || (query[2] & 0x80) != 0) return null;
    int at = 12;
    var labels = new List<string>();
    while (at < length && query[at] != 0)
    {
        int label = query[at];
        if (label > 63 || at + 1 + label > length) return null;
        labels.Add(System.Text.Encoding.ASCII.GetString(query, at + 1, label));
        at += 1 + label;
    }
    if (at + 5 > length) return null;
    int questionEnd = at + 5;
    int qtype = query[at + 1] << 8 | query[at + 2];
    string qname = string.Join('.', labels);
    var records = new List<byte>();
    int count = 0;
    for (string name = qname.ToLowerInvariant(); qtype == 1 && zone.TryGetValue(name, out var entry) && count < 8; count++)
    {
        records.AddRange(WireName(name));
        var data = entry.Alias ? WireName(entry.Value) : IPAddress.Parse(entry.Value).GetAddressBytes();
        records.AddRange(new byte[] { 0, (byte)(entry.Alias ? 5 : 1), 0, 1,
            (byte)(entry.Ttl >> 24), (byte)(entry.Ttl >> 16), (byte)(entry.Ttl >> 8), (byte)entry.Ttl, (byte)(data.Length >> 8), (byte)data.Length });
        records.AddRange(data);
        if (!entry.Alias) { count++; break; }
        name = entry.Value;
    }
    var answer = new List<byte>();
    answer.AddRange(query.AsSpan(0, 2).ToArray());
    answer.Add((byte)(0x80 | (query[2] & 0x01))); answer.Add(0x80);
    answer.AddRange(new byte[] { 0, 1, 0, (byte)count, 0, 0, 0, 0 });
    answer.AddRange(query.AsSpan(12, questionEnd - 12).ToArray());
    answer.AddRange(records);
    return (answer.ToArray(), qname);
}

static byte[] WireName(string name) =>
    [.. name.Split('.').SelectMany(l => new[] { (byte)l.Length }.Concat(System.Text.Encoding.ASCII.GetBytes(l))), 0];
