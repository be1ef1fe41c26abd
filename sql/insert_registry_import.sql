insert into registry_import (imported_at) values (:imported_at)
