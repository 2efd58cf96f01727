import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

// A small service in the shape of a Spring Boot app: GET / answers, GET
// /actuator/health says UP (or OUT_OF_SERVICE once deregistered), POST
// /actuator/deregister takes it out of the registry's rotation, POST
// /actuator/shutdown stops it. Its shutdown hook lets in-flight requests finish.
// With EVENTS_FILE set it appends "<epoch ms> <event>" lines, for tests.
public class App {
    static final AtomicBoolean registered = new AtomicBoolean(true);

    public static void main(String[] args) throws IOException {
        String host = System.getenv().getOrDefault("HOST", "127.0.0.1");
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        int drainSeconds = Integer.parseInt(System.getenv().getOrDefault("SHUTDOWN_DRAIN_SECONDS", "2"));
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 128);
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.createContext("/", ex -> reply(ex, 200, "hello from " + port + "\n"));
        server.createContext("/slow", ex -> { // a request still in flight when the stop comes
            event("slow");
            try { Thread.sleep(Long.parseLong(ex.getRequestURI().getQuery().replace("ms=", ""))); }
            catch (Exception e) { reply(ex, 400, "want /slow?ms=N\n"); return; }
            reply(ex, 200, "slow done\n");
        });
        server.createContext("/actuator/health", ex ->
            reply(ex, 200, registered.get() ? "{\"status\":\"UP\"}" : "{\"status\":\"OUT_OF_SERVICE\"}"));
        server.createContext("/actuator/deregister", ex -> {
            registered.set(false);
            event("deregister");
            log("deregistered");
            reply(ex, 200, "{\"status\":\"OUT_OF_SERVICE\"}");
        });
        server.createContext("/actuator/shutdown", ex -> {
            event("shutdown-request");
            reply(ex, 200, "{\"message\":\"Shutting down, bye...\"}");
            new Thread(() -> System.exit(0)).start();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            event("hook-start");
            log("shutdown hook: finishing in-flight requests (up to " + drainSeconds + "s)");
            server.stop(drainSeconds);
            event("hook-done");
            log("shutdown hook: done");
        }));
        server.start();
        log("listening on " + host + ":" + port);
    }

    static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(code, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    static synchronized void event(String name) {
        String file = System.getenv("EVENTS_FILE");
        if (file == null) {
            return;
        }
        try {
            Files.writeString(Path.of(file), System.currentTimeMillis() + " " + name + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            e.printStackTrace();
        }
    }

    static void log(String msg) {
        System.out.println("app[" + ProcessHandle.current().pid() + "]: " + msg);
        System.out.flush();
    }
}
