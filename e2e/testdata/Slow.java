import java.nio.file.Files;
import java.nio.file.Path;

// A service with a graceful shutdown: its hook takes HOOK_MS and then writes
// DIR/hook-done. It writes DIR/ready once the hook is installed.
public class Slow {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long hookMillis = Long.parseLong(args[1]);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Thread.sleep(hookMillis);
                Files.writeString(dir.resolve("hook-done"), "ok");
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        Files.writeString(dir.resolve("ready"), "ok");
        Thread.sleep(Long.MAX_VALUE);
    }
}
