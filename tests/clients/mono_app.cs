// Mono's own RabbitMQ.Client (Debian: libmono-rabbitmq4.0-cil), as an
// application for audit's tests. Usage: mono mono_app.exe HOST PORT NAME [HEARTBEAT]
// Connects as guest/guest with connection name NAME, prints
// `ready PROTOCOL`, then holds the connection until stdin closes; on a
// shutdown it prints `shutdown SECONDS REASON` (seconds since connecting).
using System;
using System.Collections;
using System.Diagnostics;
using RabbitMQ.Client;

class MonoApp
{
    static void Main(string[] args)
    {
        var f = new ConnectionFactory();
        f.HostName = args[0];
        f.Port = int.Parse(args[1]);
        f.UserName = "guest";
        f.Password = "guest";
        // The factory's table is what the library sends (product,
        // version, platform, …): add the name to it.
        IDictionary props = f.ClientProperties ?? new Hashtable();
        props["connection_name"] = args[2];
        f.ClientProperties = props;
        if (args.Length > 3) f.RequestedHeartbeat = ushort.Parse(args[3]);
        var clock = Stopwatch.StartNew();
        IConnection c = f.CreateConnection();
        c.ConnectionShutdown += (conn, reason) =>
            Console.WriteLine("shutdown {0:F1} {1}", clock.Elapsed.TotalSeconds, reason);
        Console.WriteLine("ready {0} heartbeat {1}", c.Protocol.ApiName, c.Heartbeat);
        Console.Out.Flush();
        Console.In.ReadToEnd();
        try { c.Close(); } catch (Exception) { }
    }
}
